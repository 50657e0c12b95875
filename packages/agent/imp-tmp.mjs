const spec = process.argv[2];
const rss = () => process.memoryUsage().rss / 1048576;
globalThis.gc?.(); await new Promise(r => setTimeout(r, 50));
const a = rss(); const h0 = process.memoryUsage().heapUsed/1048576;
if (spec !== 'none') await import(spec);
globalThis.gc?.(); await new Promise(r => setTimeout(r, 200)); globalThis.gc?.();
const b = rss(); const h1 = process.memoryUsage().heapUsed/1048576;
console.log(`${spec.padEnd(40)} base ${a.toFixed(1)}  +rss ${(b-a).toFixed(1)}  +heap ${(h1-h0).toFixed(1)}`);
