#!/usr/bin/python3
"""Tapwallet interop check with pyscard (python3-pyscard), a third-party PC/SC client.

Usage: pcsc_pyscard.py [READER] [--aid-prefix HEX] [--apdu HEX]...

Connects to the first reader whose name contains READER (default "Virtual PCD 00 00"), selects the PPSE,
lists the application AIDs (tag 4F) of its FCI, selects the first one starting with --aid-prefix (default:
the first one), sends each --apdu to it, and prints one JSON line:
{"reader", "atr", "ppse_sw", "aids", "aid", "select_sw", "apdus": [{"command", "data", "sw"}]}.
Exits 1 with a message on stderr when anything fails.
Run with the system interpreter (/usr/bin/python3): pyenv's python3 does not see Debian's pyscard.
"""
import argparse
import json
import sys

from smartcard.System import readers

PPSE = list(b"2PAY.SYS.DDF01")


def hexs(data):
    return "".join("%02X" % b for b in data)


def find_tags(data, wanted, found=None):
    """Every value of a one-byte or two-byte tag in BER-TLV data, depth first, in order."""
    found = [] if found is None else found
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
            found.append(value)
        first = tag >> 8 if tag > 0xFF else tag
        if first & 0x20:
            find_tags(value, wanted, found)
    return found


def main():
    parser = argparse.ArgumentParser(description="select the PPSE and an application it lists")
    parser.add_argument("reader", nargs="?", default="Virtual PCD 00 00")
    parser.add_argument("--aid-prefix", default="")
    parser.add_argument("--apdu", action="append", default=[])
    args = parser.parse_args()
    name = args.reader
    matching = [r for r in readers() if name in str(r)]
    if not matching:
        sys.exit("no reader matching %r among %s" % (name, [str(r) for r in readers()]))
    connection = matching[0].createConnection()
    connection.connect()
    try:
        data, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x00, len(PPSE)] + PPSE + [0x00])
        result = {"reader": str(matching[0]), "atr": hexs(connection.getATR()), "ppse_sw": "%02X%02X" % (sw1, sw2)}
        aids = find_tags(data, 0x4F) if (sw1, sw2) == (0x90, 0x00) else []
        result["aids"] = [hexs(a) for a in aids]
        wanted = [a for a in aids if hexs(a).startswith(args.aid_prefix.upper())]
        if not wanted:
            sys.exit("no application %s* in the PPSE answer: %s %02X%02X" % (args.aid_prefix, hexs(data), sw1, sw2))
        aid = wanted[0]
        result["aid"] = hexs(aid)
        data, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x00, len(aid)] + list(aid) + [0x00])
        result["select_sw"] = "%02X%02X" % (sw1, sw2)
        result["apdus"] = []
        for command in args.apdu:
            data, sw1, sw2 = connection.transmit(list(bytes.fromhex(command)))
            result["apdus"].append({"command": command.upper(), "data": hexs(data), "sw": "%02X%02X" % (sw1, sw2)})
        print(json.dumps(result))
    finally:
        connection.disconnect()


if __name__ == "__main__":
    main()
