/**
 * A small card image written for the tests and docs: a synthetic T-Union-style transit application (our own
 * numbers, laid out as JT/T 978 / CJ/T 166 files: EF15 binary, EF18 purchase records, balance) and two bank
 * applications whose FCIs are the qPBOC trace's (neil-pan-s/qpboc-kernel).
 */
export const EF15 =
  "0000" +
  "2000" +
  "0001" +
  "0000" +
  "01" +
  "02" +
  "0000" +
  "3104000000001234" +
  "20250101" +
  "20351231" +
  "0000";
export const RECORD_1 = "0001" + "000000" + "00000064" + "09" + "000000112233" + "20250102" + "083000";
export const RECORD_2 = "0002" + "000000" + "000000C8" + "06" + "000000112233" + "20250103" + "181500";

export const TEST_IMAGE = {
  activation: { uid: "08A1B2C3", atqa: "0004", sak: "20", ats: "0578807002" },
  ppse: "6F30840E325041592E5359532E4444463031A51EBF0C1B61194F08A000000333010101500A50424F43204445424954870101",
  applications: [
    {
      aid: "A000000632010105",
      fid: "1001",
      fci: "6F0A8408A000000632010105",
      files: { "15": { binary: EF15 }, "18": { records: [RECORD_1, RECORD_2] } },
      balances: { "00": "00000B22", "01": "00000000", "02": "00000000", "03": "00000B22" },
      getData: { "80CA000009": "010203040506070809" },
    },
    {
      aid: "A000000333010101",
      fci: "6F598408A000000333010101A54D500A50424F432044454249548701019F38189F66049F02069F03069F1A0295055F2A029A039C019F37045F2D027A689F1101019F120A50424F43204445424954BF0C0A9F4D020B0ADF4D020C0A",
      files: { "01": { records: ["70105A0862299999999999995F3401009F0702FF00"] } },
      getData: { "80CA9F3600": "9F36020ADC" },
    },
    { aid: "A000000333010102", fci: "6F0A8408A000000333010102", files: {} },
  ],
};
