// Run a Python module like `python -m MODULE ARGS...`, but first ask Linux to
// SIGTERM the process when its parent dies (PR_SET_PDEATHSIG). This way a
// Synapse (or pip) child never outlives the Node process, even one killed with
// SIGKILL. On other systems the prctl call is skipped.

/** Environment variable carrying the expected parent pid (closes the fork race). */
export const PARENT_PID_ENV = "LOKET_PYTHON_PARENT_PID";

const LAUNCHER = `
import os, runpy, signal, sys
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
if str(os.getppid()) != os.environ.get("${PARENT_PID_ENV}", str(os.getppid())):
    sys.exit("parent process already gone")
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
`;

/** Arguments for `python` equivalent to `-m module ...args`, with parent-death handling. */
export function pythonModuleArgs(module: string, args: readonly string[]): string[] {
  return ["-c", LAUNCHER, module, ...args];
}

/** process.env plus the parent pid the launcher checks. */
export function launcherEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, [PARENT_PID_ENV]: String(process.pid), ...extra };
}
