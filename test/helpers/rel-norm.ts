/**
 * ‖a − b‖ / ‖b‖ over a whole LoRA: Adam's first steps move every element by ≈ lr·sign(g), so an
 * element whose gradient is ~0 may flip under fp32 noise (another kernel, another batch size); the
 * norm weighs those few against the whole, a wrong update rule or a mixed-up batch does not pass.
 */
export function relNorm(a: Float32Array, b: Float32Array) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
