/**
 * The applet packages in the phone's SE "ROM": door cards, QuickPass bank-card tokens and transit e-purses.
 * Every phone's SE is opened with all of them, so a card the TSM installs later can be instantiated.
 */
import { qpbocPackage } from "../emv/card/package.js";
import { doorPackage } from "../mifare/door-applet.js";
import type { AppletPackage } from "../se/applet.js";
import { epursePackage } from "../transit/phone.js";

export const PHONE_PACKAGES: readonly AppletPackage[] = [doorPackage, qpbocPackage, epursePackage];
