const settle = async () => { for (let i=0;i<4;i++){ gc(); await new Promise(r=>setTimeout(r,50)); } };
await settle(); const a = process.memoryUsage(); 
for (const m of process.argv.slice(2)) await import(m);
await settle(); const b = process.memoryUsage();
console.log(process.argv.slice(2).join(' ').slice(0,80).padEnd(80), 'rss +' + ((b.rss-a.rss)/1048576).toFixed(1), 'heap +' + ((b.heapUsed-a.heapUsed)/1048576).toFixed(1));
