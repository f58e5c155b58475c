// Preloaded (NODE_OPTIONS=--require) into the processes the engine starts when the provisioning bench
// runs with BENCH_PLUGIN_CPU_PROF=<dir> or BENCH_PLUGIN_HEAP=<dir>. Only the dynamic-provider plugin acts on it.
// - BENCH_PLUGIN_CPU_PROF: Node 20 refuses --cpu-prof in NODE_OPTIONS, so the plugin is profiled through the
//   inspector and writes <dir>/plugin-<pid>.cpuprofile when it exits or is told to stop.
// - BENCH_PLUGIN_HEAP: the plugin samples process.memoryUsage() every 50 ms and writes <dir>/plugin-<pid>.heap.json:
//   the sample at its peak RSS, and what is still reachable at exit after a full GC (NODE_OPTIONS gets
//   --expose-gc too), which tells memory that is kept (grows with the stack) from garbage not yet collected.
import * as fs from "fs";
import * as inspector from "inspector";
import * as path from "path";
import * as v8 from "v8";

const isPlugin = process.argv.some((a) => a.includes("dynamic-provider"));
const writers: Array<() => void> = [];

const cpuDir = process.env.BENCH_PLUGIN_CPU_PROF;
if (cpuDir && isPlugin) {
    const session = new inspector.Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 1000 });
    session.post("Profiler.start");
    writers.push(() => {
        // The in-process session answers synchronously, so this works inside an exit handler.
        session.post("Profiler.stop", (err, res) => {
            if (!err) fs.writeFileSync(path.join(cpuDir, `plugin-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
        });
    });
}

const heapDir = process.env.BENCH_PLUGIN_HEAP;
if (heapDir && isPlugin) {
    const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
    const shape = (m: NodeJS.MemoryUsage) => ({
        rss: mib(m.rss),
        heapUsed: mib(m.heapUsed),
        heapTotal: mib(m.heapTotal),
        external: mib(m.external),
        arrayBuffers: mib(m.arrayBuffers),
    });
    let peak = process.memoryUsage();
    const timer = setInterval(() => {
        const m = process.memoryUsage();
        if (m.rss > peak.rss) peak = m;
    }, 50);
    timer.unref();
    writers.push(() => {
        clearInterval(timer);
        const beforeGc = process.memoryUsage();
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_used_size)]));
        fs.writeFileSync(
            path.join(heapDir, `plugin-${process.pid}.heap.json`),
            `${JSON.stringify({ atPeakRss: shape(peak), atExit: shape(beforeGc), afterGc: gc ? shape(process.memoryUsage()) : null, spacesAfterGc: spaces }, null, 2)}\n`,
        );
        if (process.env.BENCH_PLUGIN_HEAP_SNAPSHOT) v8.writeHeapSnapshot(path.join(heapDir, `plugin-${process.pid}.heapsnapshot`));
    });
}

// BENCH_PLUGIN_HEAP with BENCH_PLUGIN_ALLOC=1: a sampling allocation profile of everything the plugin allocated,
// collected garbage included (<dir>/plugin-<pid>.heapprofile; summarize with `node build/bench/profile.js allocs <file>`).
if (heapDir && isPlugin && process.env.BENCH_PLUGIN_ALLOC) {
    const session = new inspector.Session();
    session.connect();
    session.post("HeapProfiler.enable");
    session.post("HeapProfiler.startSampling", {
        samplingInterval: 16384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
    } as inspector.HeapProfiler.StartSamplingParameterType);
    writers.unshift(() => {
        session.post("HeapProfiler.stopSampling", (err, res) => {
            if (!err) fs.writeFileSync(path.join(heapDir, `plugin-${process.pid}.heapprofile`), JSON.stringify(res.profile));
        });
    });
}

if (writers.length > 0) {
    let written = false;
    const write = () => {
        if (written) return;
        written = true;
        for (const w of writers) w();
    };
    process.on("exit", write);
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
        process.on(sig, () => {
            write();
            process.exit(0);
        });
    }
}
