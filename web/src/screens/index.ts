/** Every screen of the signed-in app, in tab order. The first is where the app opens. */
import type { ScreenDef } from "../app/screens.js";
import { activityScreen } from "./Activity.js";
import { cardsScreen } from "./Cards.js";
import { phoneScreen } from "./Phone.js";
import { settingsScreen } from "./Settings.js";

export const SCREENS: readonly ScreenDef[] = [cardsScreen, phoneScreen, activityScreen, settingsScreen];
