/**
 * The SE answers every byte string with a status word and never throws: at least 100,000 random commands
 * per CI run, over the field and over the host interface, raw bytes and well-formed APDUs, many of them
 * right after a valid SELECT of an installed instance, the PPSE, the card manager or the CRS.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCommand } from "../core/apdu.js";
import { fromHex } from "../core/bytes.js";
import { CRS_AID, ISD_AID, PPSE_NAME } from "./gp.js";
import { initializeUpdateCommand } from "./scp03-host.js";
import { AIDS, phone, select, sessions, wellFormed } from "./testing/fuzz.js";

describe("robustness", () => {
  let sent = 0;

  it("answers random commands from the field with a status word", () => {
    const se = phone();
    fc.assert(
      fc.property(
        sessions([...AIDS, PPSE_NAME, fromHex("A000000632010105")]),
        ({ selectFirst, commands }) => {
          if (selectFirst) {
            expect(wellFormed(se.process(select(selectFirst)))).toBe(true);
            sent++;
          }
          for (const c of commands) {
            const answer = se.process(c);
            sent++;
            if (!wellFormed(answer)) return false;
          }
          return true;
        },
      ),
      { numRuns: 22_000 },
    );
  });

  it("answers random commands on the host interface (card manager, CRS, instances)", () => {
    const se = phone();
    const names = [...AIDS, ISD_AID, CRS_AID, PPSE_NAME];
    fc.assert(
      fc.property(sessions(names), fc.boolean(), ({ selectFirst, commands }, openChannel) => {
        if (selectFirst) {
          se.host.transmit(select(selectFirst));
          sent++;
        }
        if (openChannel) {
          expect(
            wellFormed(se.host.transmit(encodeCommand(initializeUpdateCommand(fromHex("0102030405060708"))))),
          ).toBe(true);
          sent++;
        }
        for (const c of commands) {
          const answer = se.host.transmit(c);
          sent++;
          if (!wellFormed(answer)) return false;
        }
        return true;
      }),
      { numRuns: 12_000 },
    );
  });

  it("sent at least 100,000 commands", () => {
    expect(sent).toBeGreaterThanOrEqual(100_000);
  });
});
