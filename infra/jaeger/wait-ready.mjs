// Polls Jaeger over HTTP until it is healthy and its query API answers, or the process dies.
// Usage: node wait-ready.mjs <health-url> <query-url> --pid <pid> [--timeout-ms 60000]
const [healthUrl, queryUrl, ...rest] = process.argv.slice(2);
const option = (name, fallback) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : fallback;
};
const pid = Number(option("--pid", "0"));
const deadline = Date.now() + Number(option("--timeout-ms", "60000"));

function alive() {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ok(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

for (;;) {
  if ((await ok(healthUrl)) && (await ok(queryUrl))) process.exit(0);
  if (!alive()) {
    console.error(`jaeger (pid ${pid}) exited before it was ready`);
    process.exit(1);
  }
  if (Date.now() > deadline) {
    console.error(`jaeger not ready at ${healthUrl} and ${queryUrl} in time`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
