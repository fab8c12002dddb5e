/** Every screen of the signed-in app: the tabs in order first (the first is where the app opens), then the rest. */
import type { ScreenDef } from "../app/screens.js";
import { activityScreen } from "./Activity.js";
import { addBankCardScreen } from "./AddBankCard.js";
import { bankCardScreen } from "./BankCard.js";
import { cardsScreen } from "./Cards.js";
import { doorCardsScreen } from "./DoorCards.js";
import { openTransitScreen } from "./OpenTransit.js";
import { phoneScreen } from "./Phone.js";
import { settingsScreen } from "./Settings.js";
import { terminalScreen } from "./Terminal.js";
import { transitCardScreen } from "./TransitCard.js";
import { transitScreen } from "./Transit.js";

export const SCREENS: readonly ScreenDef[] = [
  cardsScreen,
  transitScreen,
  terminalScreen,
  activityScreen,
  settingsScreen,
  addBankCardScreen,
  bankCardScreen,
  openTransitScreen,
  transitCardScreen,
  doorCardsScreen,
  phoneScreen,
];
