// `npm run test:faults`: the single-broker fault run; `npm run test:faults -- --cluster`: the
// three-node cluster fault run.
await import(process.argv.includes("--cluster") ? "./cluster.js" : "./main.js");
