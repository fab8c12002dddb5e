#!/usr/bin/python3
"""Tapwallet interop check with pyscard (python3-pyscard), a third-party PC/SC client.

Connects to the first reader whose name contains READER (default "Virtual PCD 00 00"), selects the PPSE,
takes the first application AID (tag 4F) from its FCI, selects it, and prints one JSON line:
{"reader", "atr", "ppse_sw", "aid", "select_sw"}. Exits 1 with a message on stderr when anything fails.
Run with the system interpreter (/usr/bin/python3): pyenv's python3 does not see Debian's pyscard.
"""
import json
import sys

from smartcard.System import readers

PPSE = list(b"2PAY.SYS.DDF01")


def hexs(data):
    return "".join("%02X" % b for b in data)


def find_tag(data, wanted):
    """Depth-first search of BER-TLV data for a one-byte or two-byte tag."""
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[i]
            i += 1
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(bytes(data[i : i + n]), "big")
            i += n
        value = data[i : i + length]
        i += length
        if tag == wanted:
            return value
        first = tag >> 8 if tag > 0xFF else tag
        if first & 0x20:
            found = find_tag(value, wanted)
            if found is not None:
                return found
    return None


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD 00 00"
    matching = [r for r in readers() if name in str(r)]
    if not matching:
        sys.exit("no reader matching %r among %s" % (name, [str(r) for r in readers()]))
    connection = matching[0].createConnection()
    connection.connect()
    try:
        data, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x00, len(PPSE)] + PPSE + [0x00])
        result = {"reader": str(matching[0]), "atr": hexs(connection.getATR()), "ppse_sw": "%02X%02X" % (sw1, sw2)}
        aid = find_tag(data, 0x4F) if (sw1, sw2) == (0x90, 0x00) else None
        if aid is None:
            sys.exit("no application in the PPSE answer: %s %02X%02X" % (hexs(data), sw1, sw2))
        result["aid"] = hexs(aid)
        data, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x00, len(aid)] + list(aid) + [0x00])
        result["select_sw"] = "%02X%02X" % (sw1, sw2)
        print(json.dumps(result))
    finally:
        connection.disconnect()


if __name__ == "__main__":
    main()
