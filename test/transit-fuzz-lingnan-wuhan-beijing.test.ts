/** The e-purse fuzz test (test/transit-fuzz.ts) on Lingnan Pass, Wuhan Tong and Beijing. */
import { fuzzEpurses } from "./transit-fuzz.js";

fuzzEpurses(["lingnan-pass", "wuhan-tong", "beijing-yikatong"]);
