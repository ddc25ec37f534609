"""The unified social credit code check (GB 32100-2015)."""

import pytest

from inspect_app.directory import creditcode


@pytest.mark.parametrize(
    "code", ["91440300708461136T", "91330100716105852F", "9144030071526726XG", "91350100M000100Y43"]
)
def test_real_credit_codes_are_valid(code):
    assert creditcode.problem(code) is None


def test_a_changed_character_breaks_the_check_digit():
    assert creditcode.problem("91440300708461137T") == "check_digit"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_refused(letter):
    assert creditcode.problem("9144030070846113" + letter + "T") == "characters"


def test_lower_case_and_spaces_are_normalised_before_checking():
    assert creditcode.normalise(" 91440300 708461136t ") == "91440300708461136T"


@pytest.mark.parametrize("code", ["", "9144030070846113", "91440300708461136TT"])
def test_codes_of_the_wrong_length_are_refused(code):
    assert creditcode.problem(code) == "length"
