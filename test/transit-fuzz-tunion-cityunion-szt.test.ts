/** The e-purse fuzz test (test/transit-fuzz.ts) on T-Union, City Union (Shanghai) and Shenzhen Tong. */
import { fuzzEpurses } from "./transit-fuzz.js";

fuzzEpurses(["tu-jingjinji", "shanghai", "shenzhen-tong"]);
