import type { Command } from "commander";
import { register as demo } from "./demo.js";
import { register as door } from "./door.js";
import { register as gate } from "./gate.js";
import { register as issuerKey } from "./issuer.js";
import { register as phone } from "./phone.js";
import { register as pos } from "./pos.js";
import { register as read } from "./read.js";
import { register as trace } from "./trace.js";
import { register as serve } from "./serve.js";
import { register as transit } from "./transit.js";

/** Every subcommand's registration; add one line per command module. */
export const commands: ((program: Command) => void)[] = [
  demo,
  door,
  gate,
  issuerKey,
  phone,
  pos,
  read,
  serve,
  trace,
  transit,
];
