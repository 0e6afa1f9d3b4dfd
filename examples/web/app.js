// Dashboard: fetch the last 48 hours of readings and draw them with a moving average.
const API = "/api/readings";

async function loadReadings(stationId, hours = 48) {
  const response = await fetch(`${API}?station=${encodeURIComponent(stationId)}&hours=${hours}`);
  if (!response.ok) {
    throw new Error(`failed to load readings: ${response.status}`);
  }
  return response.json();
}

function movingAverage(values, window = 6) {
  return values.map((_, i) => {
    const start = Math.max(0, i - window + 1);
    const slice = values.slice(start, i + 1);
    return slice.reduce((a, b) => a + b, 0) / slice.length;
  });
}

function draw(canvas, readings) {
  const ctx = canvas.getContext("2d");
  const temps = readings.map((r) => r.temperature_c);
  const avg = movingAverage(temps);
  const min = Math.min(...temps) - 1;
  const max = Math.max(...temps) + 1;
  const x = (i) => (i / (temps.length - 1)) * canvas.width;
  const y = (v) => canvas.height - ((v - min) / (max - min)) * canvas.height;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  [[temps, "#9ab"], [avg, "#d33"]].forEach(([series, color]) => {
    ctx.beginPath();
    ctx.strokeStyle = color;
    series.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  const canvas = document.getElementById("chart");
  const station = new URLSearchParams(window.location.search).get("station") || "backyard";
  try {
    draw(canvas, await loadReadings(station));
  } catch (err) {
    document.getElementById("status").textContent = err.message;
  }
});
