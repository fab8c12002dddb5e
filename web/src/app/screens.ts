/**
 * A screen: where it lives, its title, its tab (if it has one) and its component. Adding a screen is a
 * file in `screens/` exporting one of these, a line in `screens/index.ts`, and its words in the
 * dictionary (docs/WEB.md).
 */
import type { ComponentType } from "react";
import type { IconName } from "../components/icons.js";
import type { MessageKey } from "../i18n/messages.js";

export interface ScreenDef {
  /** The URL path, e.g. `/cards`; `:name` marks a parameter (`/transit/cards/:cardId`). */
  path: string;
  /** The screen's heading (and the document title). */
  title: MessageKey;
  /** Shown in the bottom tab bar when present. */
  tab?: { label: MessageKey; icon: IconName };
  /** Screens without a tab: where the app bar's back link leads. */
  parent?: string;
  Component: ComponentType;
}
