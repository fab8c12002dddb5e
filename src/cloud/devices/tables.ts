/** Phones bound to accounts, and the nonces their signed requests have used. Times are epoch ms. */
export interface DevicesTable {
  id: string;
  account_id: string;
  /** Android device code name, one of SUPPORTED_MODELS. */
  model_code: string;
  /** The user's name for the phone. */
  name: string;
  /** ISO 3166-1 alpha-2 region the phone reported at binding. */
  region: string;
  /** ECDSA P-256 public key, base64 SPKI DER. */
  public_key: string;
  /** Hex SHA-256 of the SPKI DER; unique: a key binds once. */
  key_fingerprint: string;
  /** The secure element's identifier as the phone reports it (the TSM's handle on the SE). */
  se_id: string;
  app_version: string | null;
  created_at: number;
  last_seen_at: number | null;
  /** Set when the owner reports the phone lost; its cards are to be suspended (token service). */
  lost_at: number | null;
  /** Set when the owner removes the phone; the row stays for history, the key stops working. */
  removed_at: number | null;
}

export interface SignatureNoncesTable {
  key_fingerprint: string;
  nonce: string;
  /** After this, the request's timestamp is outside the window anyway and the row can go. */
  expires_at: number;
}

export interface DevicesTables {
  devices: DevicesTable;
  signature_nonces: SignatureNoncesTable;
}
