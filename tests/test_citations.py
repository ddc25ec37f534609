"""One way to cite laws in signed documents (S7): Chinese numerals, full title first, old
article numbers first for conduct before the 2026 renumbering."""

from datetime import date

import pytest

from inspect_app.citations import Citer, chinese_numerals, cn_number

NEW = {"law": "网络安全法", "article": "第23条第（四）项", "article_pre2026": "第21条第（四）项"}


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (23, "二十三"),
        (61, "六十一"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1001, "一千零一"),
    ],
)
def test_numbers_are_written_as_statutes_write_them(n, text):
    assert cn_number(n) == text


def test_only_article_numbers_become_chinese():
    assert chinese_numerals("第23条第2款 GB/T 22239-2019 8.1.4 第151号") == (
        "第二十三条第二款 GB/T 22239-2019 8.1.4 第151号"
    )


def test_full_title_at_first_mention_then_the_short_one(ctx):
    cite = Citer(on=date(2026, 5, 1))
    first = cite.basis(NEW)
    again = cite.basis({"law": "网络安全法", "article": "第61条"})
    assert first == (
        "《中华人民共和国网络安全法》（以下简称《网络安全法》）第二十三条第（四）项"
        "（原第二十一条第（四）项）"
    )
    assert again == "《网络安全法》第六十一条"


def test_conduct_before_2026_cites_the_old_number_first(ctx):
    cite = Citer(on=date(2025, 12, 31))
    assert cite.basis(NEW).endswith("第二十一条第（四）项（现第二十三条第（四）项）")
    assert cite.mark("《中华人民共和国网络安全法》第九条（原第八条）") == (
        "《中华人民共和国网络安全法》第八条（现第九条）"
    )
    assert Citer(on=date(2026, 1, 1)).mark("第九条（原第八条）") == "第九条（原第八条）"


def test_a_standard_keeps_its_clause(ctx):
    assert Citer().basis({"standard": "GB/T 22239-2019", "clause": "8.1.4.9"}) == (
        "GB/T 22239-2019 8.1.4.9"
    )
