// Run a Python script under the official MicroPython WebAssembly build with the firmware
// package (sensorcoach_fw) on its path.
// Usage: node run_micropython.mjs <path/to/micropython.mjs> <firmware_stub dir> <script.py>
import fs from "fs";
import path from "path";
import { pathToFileURL } from "url";

const [mjs, fwDir, script] = process.argv.slice(2);
const { loadMicroPython } = await import(pathToFileURL(path.resolve(mjs)).href);
const mp = await loadMicroPython({
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
mp.FS.mkdir("/fw");
mp.FS.mkdir("/fw/sensorcoach_fw");
const pkg = path.join(fwDir, "sensorcoach_fw");
for (const name of fs.readdirSync(pkg)) {
  if (name.endsWith(".py")) {
    mp.FS.writeFile("/fw/sensorcoach_fw/" + name, fs.readFileSync(path.join(pkg, name), "utf8"));
  }
}
// the BLE glue too, so a test can at least compile it (there is no `bluetooth` module here)
mp.FS.writeFile("/fw/main.py", fs.readFileSync(path.join(fwDir, "main.py"), "utf8"));
try {
  mp.runPython("import sys\nsys.path.insert(0, '/fw')\n" + fs.readFileSync(script, "utf8"));
} catch (err) {
  process.stderr.write(String(err) + "\n");
  process.exit(1);
}
