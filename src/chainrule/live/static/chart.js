// Training (dark) and test (light) loss per epoch.

export function drawChart(canvas, history) {
  const ratio = window.devicePixelRatio || 1, W = canvas.clientWidth || 320, H = canvas.clientHeight || 90;
  if (canvas.width !== Math.round(W * ratio)) { canvas.width = Math.round(W * ratio); canvas.height = Math.round(H * ratio); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const epochs = history.epoch, series = [[history.val_loss, "#9aa7b0"], [history.loss, "#222"]];
  const finite = series.flatMap(([s]) => s).filter((v) => v !== null && Number.isFinite(v));
  if (epochs.length < 2 || finite.length === 0) return;
  const top = Math.max(...finite) * 1.05 || 1, last = epochs[epochs.length - 1] || 1;
  ctx.font = "10px DejaVu Sans, sans-serif";
  ctx.fillStyle = "#888";
  ctx.fillText(top.toPrecision(3), 2, 10);
  ctx.fillText(`epoch ${last}`, W - 62, H - 3);
  ctx.fillStyle = "#222"; ctx.fillText("— training loss", W - 190, 10);
  ctx.fillStyle = "#9aa7b0"; ctx.fillText("— test loss", W - 90, 10);
  for (const [values, colour] of series) {
    ctx.beginPath();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    let started = false;
    values.forEach((v, i) => {
      if (v === null) return;
      const x = epochs[i] / last * (W - 4) + 2, y = H - 14 - v / top * (H - 20);
      if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
    });
    ctx.stroke();
  }
}
