// Colours: orange (negative / class 0) through white to blue (positive / class 1), as in TF Playground.

export const NEG = [245, 147, 34];
export const POS = [8, 119, 189];
export const CLASSES = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function rgb(hex) { return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)); }
export const CLASS_RGB = CLASSES.map(rgb);

// 256 colours for a byte 0..255: 0 -> orange, 128 -> white, 255 -> blue.
export const RAMP = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) {
    const t = v / 255 * 2 - 1, end = t < 0 ? NEG : POS, k = Math.abs(t);
    for (let c = 0; c < 3; c++) lut[v * 3 + c] = Math.round(255 + (end[c] - 255) * k * 0.6);
  }
  return lut;
})();

export function rampCss(v) {  // v in [0, 1]
  const i = Math.max(0, Math.min(255, Math.round(v * 255))) * 3;
  return `rgb(${RAMP[i]},${RAMP[i + 1]},${RAMP[i + 2]})`;
}

// Paint size*size pixels into ImageData from the server's bytes (1 byte, or class+confidence pairs).
export function paint(image, data, kind) {
  const px = image.data, n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    let r, g, b;
    if (kind === "classes") {
      const col = CLASS_RGB[data[2 * i] % CLASS_RGB.length], conf = data[2 * i + 1] / 255;
      const k = Math.max(0, Math.min(1, (conf - 0.3) / 0.7)) * 0.55;
      r = 255 + (col[0] - 255) * k; g = 255 + (col[1] - 255) * k; b = 255 + (col[2] - 255) * k;
    } else {
      const j = data[i] * 3;
      r = RAMP[j]; g = RAMP[j + 1]; b = RAMP[j + 2];
    }
    px[4 * i] = r; px[4 * i + 1] = g; px[4 * i + 2] = b; px[4 * i + 3] = 255;
  }
}
