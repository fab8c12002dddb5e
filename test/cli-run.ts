/**
 * The `tapwallet` CLI as a user runs it: a separate process (`npx tsx src/cli/main.ts`) from the project's
 * root, never blocking this process (whose server the command may talk to). The factory master is the
 * development one whatever the caller's environment says.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

const root = join(import.meta.dirname, "..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Typed at the first prompt matching `prompt`. */
  answer?: { prompt: RegExp; text: () => string };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const { answer } = options;
  return new Promise((resolve) => {
    const child = spawn("npx", ["tsx", "src/cli/main.ts", ...args], {
      cwd: root,
      env: { ...process.env, TAPWALLET_SE_MASTER_KEY: "", ...options.env },
    });
    let stdout = "";
    let stderr = "";
    let answered = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (answer && !answered && answer.prompt.test(stdout)) {
        answered = true;
        child.stdin.write(answer.text() + "\n");
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A phone made with `phone init` (小米9, cepheus) in `dir`/phone, the blank 1K door card (UID 5A17E3C0) added to
 * it locally: the `--state` options that name the phone.
 */
export async function phoneWithBlankDoorCard(dir: string): Promise<string[]> {
  const state = ["--state", join(dir, "phone")];
  expect((await runCli(["phone", "init", "--model", "cepheus", ...state])).code).toBe(0);
  const blank = join(root, "test/fixtures/mifare/blank-1k.bin");
  expect((await runCli(["door", "add", blank, "--local", ...state])).code).toBe(0);
  return state;
}

/** `door open` at a reader in sector mode with `credential` as the enrolled block, then `options`. */
export const sectorDoorOpen = (credential: string, ...options: string[]): string[] => [
  "door",
  "open",
  "--reader",
  "sector",
  "--credential",
  credential,
  ...options,
];
