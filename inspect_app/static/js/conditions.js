// show_if/applies_if conditions: the same grammar and results as
// inspect_app/checklists/conditions.py (tests/test_conditions_js.py keeps the two in step).
// A missing answer (null/undefined) makes every comparison false.

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

export function compare(op, actual, operand) {
  if (actual === null || actual === undefined) return false;
  switch (op) {
    case "eq": return actual === operand;
    case "ne": return actual !== operand;
    case "in": return operand.includes(actual);
    case "not_in": return !operand.includes(actual);
    default:
      if (!isNumber(actual) || !isNumber(operand)) return false;
      if (op === "gt") return actual > operand;
      if (op === "gte") return actual >= operand;
      if (op === "lt") return actual < operand;
      if (op === "lte") return actual <= operand;
      return false;
  }
}

export function evaluate(cond, lookup) {
  return Object.entries(cond).every(([key, value]) => {
    if (key === "all") return value.every((c) => evaluate(c, lookup));
    if (key === "any") return value.some((c) => evaluate(c, lookup));
    if (key === "not") return !evaluate(value, lookup);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const [op, operand] = Object.entries(value)[0];
      return compare(op, lookup(key), operand);
    }
    return compare("eq", lookup(key), value);
  });
}
