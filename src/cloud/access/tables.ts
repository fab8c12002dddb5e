/** Door cards kept per account (the card image sealed at rest) and where each is installed. Times are epoch ms. */
export interface AccessCardsTable {
  id: string;
  account_id: string;
  name: string;
  /** Upper-case hex: shown to the owner, who uploaded it; never the keys or the sectors. */
  uid: string;
  type: string;
  sak: number;
  atqa: string;
  /** The dump format it was uploaded in. */
  format: string;
  /** AES-256-GCM under the access key, AAD `access.card:<id>`: the card image as JSON (keys and data). */
  image_sealed: string;
  created_at: number;
  /** Set when the owner deletes it; the row goes once no phone holds the card any more. */
  deleted_at: number | null;
}

export type PlacementState = "installing" | "installed" | "failed" | "lost" | "removing";

export interface AccessPlacementsTable {
  card_id: string;
  device_id: string;
  /** The instance AID on the device's SE. */
  aid: string;
  state: PlacementState;
  /** The TSM script in flight (install or delete). */
  script_id: string | null;
  /** JSON `{code, zh, en}` of the last failure. */
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface AccessTables {
  access_cards: AccessCardsTable;
  access_placements: AccessPlacementsTable;
}
