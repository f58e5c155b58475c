// Preloaded (NODE_OPTIONS=--require) into the processes the engine starts when the provisioning bench
// runs with BENCH_PLUGIN_CPU_PROF=<dir>: Node 20 refuses --cpu-prof in NODE_OPTIONS, so the
// dynamic-provider plugin is profiled through the inspector and writes <dir>/plugin-<pid>.cpuprofile
// when it exits or is told to stop.
import * as fs from "fs";
import * as inspector from "inspector";
import * as path from "path";

const dir = process.env.BENCH_PLUGIN_CPU_PROF;
if (dir && process.argv.some((a) => a.includes("dynamic-provider"))) {
    const session = new inspector.Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 1000 });
    session.post("Profiler.start");
    let written = false;
    const write = () => {
        if (written) return;
        written = true;
        // The in-process session answers synchronously, so this works inside an exit handler.
        session.post("Profiler.stop", (err, res) => {
            if (!err) fs.writeFileSync(path.join(dir, `plugin-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
        });
    };
    process.on("exit", write);
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
        process.on(sig, () => {
            write();
            process.exit(0);
        });
    }
}
