/**
 * Number formatting as Python's `print` does it, so the stats lines read exactly as
 * the course grader prints them (`0.0004`, `4e-05`, `20000.0`).
 *
 * @module
 */

/**
 * Formats a float as Python's `repr(float)`: the shortest digits that round-trip,
 * fixed notation for decimal exponents -4 ≤ e < 16, otherwise `1.5e-05` style, and
 * a trailing `.0` for integral values.
 *
 * @param value The number.
 * @returns Its Python float text.
 * @example
 * ```ts
 * import { pyFloat } from "./_pyfmt.ts";
 * if (pyFloat(0.00004) !== "4e-05" || pyFloat(2) !== "2.0") throw new Error();
 * ```
 */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa = "0", exponentText = "0"] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.slice(1);
    const exponentPart = `${exponent < 0 ? "-" : "+"}${
      String(Math.abs(exponent)).padStart(2, "0")
    }`;
    return `${sign}${digits[0]}${fraction ? `.${fraction}` : ""}e${exponentPart}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

/**
 * Formats a config number as Python prints what `json.loads` gave: integers without a
 * fraction, other numbers as {@linkcode pyFloat}.
 *
 * @param value The number.
 * @returns Its text.
 */
export function pyNumber(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloat(value);
}
