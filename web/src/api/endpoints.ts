/**
 * The server's API as typed functions, grouped by service: the cloud's (`/api/v1`) and the phone and
 * terminal simulator's (`sim`, `/sim/v1`). To add an endpoint: a row in `routes.ts`, its response type in
 * `types.ts`, and a function here; the contract test then checks the row against the OpenAPI document.
 */
import { ApiError, type ApiClient } from "./client.js";
import { ROUTES } from "./routes.js";
import { SseParser, readEventStream, type SseMessage } from "./sse.js";
import type {
  AccountView,
  AddBankCardInput,
  BankCardView,
  BankTerms,
  BankTransaction,
  CodeSent,
  CreatePhoneInput,
  DeviceView,
  DoorCardView,
  DoorInspection,
  Enrolment,
  FundingChannel,
  ModelsResponse,
  NotificationEvent,
  NotificationPage,
  PhoneAndSync,
  ReaderRead,
  SignedIn,
  SimPhone,
  TapResult,
  TerminalCatalogue,
  TerminalSpec,
  TopUpView,
  TransitCardView,
  TransitProduct,
  TransitTransaction,
  WorkflowView,
} from "./types.js";

export interface StreamHandlers {
  onOpen?(): void;
  onEvent(event: NotificationEvent): void;
}

export function createApi(client: ApiClient) {
  const phone = (phoneId: string) => ({ phoneId });
  return {
    accounts: {
      requestCode: (phone: string) => client.call<CodeSent>(ROUTES.requestCode, { body: { phone } }),
      signIn: (phone: string, code: string) =>
        client.call<SignedIn>(ROUTES.signIn, { body: { phone, code } }),
      signOut: () => client.call<void>(ROUTES.signOut),
      me: () => client.call<AccountView>(ROUTES.me),
    },

    devices: {
      models: () => client.call<ModelsResponse>(ROUTES.models),
      list: () => client.call<{ devices: DeviceView[] }>(ROUTES.listDevices).then((r) => r.devices),
      remove: (deviceId: string) => client.call<void>(ROUTES.removeDevice, { params: { deviceId } }),
      reportLost: (deviceId: string) => client.call<DeviceView>(ROUTES.reportLost, { params: { deviceId } }),
    },

    notifications: {
      list: (after: number, limit = 100) =>
        client.call<NotificationPage>(ROUTES.notifications, { query: { after, limit } }),
      /**
       * One connection to the event stream, resuming after `after`. Resolves when the server ends the
       * stream; rejects with an ApiError if it cannot be opened. The caller reconnects.
       */
      async stream(after: number, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
        const { url, headers } = client.prepare(ROUTES.notificationStream, { query: { after } });
        headers["accept"] = "text/event-stream";
        let response: Response;
        try {
          response = await fetch(url, { headers, signal });
        } catch {
          throw new ApiError(0, signal.aborted ? "aborted" : "network_error");
        }
        if (!response.ok || !response.body) {
          const body: unknown = await response.json().catch(() => undefined);
          const e = body as { error?: string; message?: { zh: string; en: string } } | undefined;
          throw new ApiError(response.status, e?.error ?? "bad_response", e?.message);
        }
        handlers.onOpen?.();
        const onMessage = (m: SseMessage) => {
          try {
            handlers.onEvent(JSON.parse(m.data) as NotificationEvent);
          } catch {
            // A frame that is not our JSON is ignored; the cursor stays where it was.
          }
        };
        try {
          await readEventStream(response.body, new SseParser(), onMessage, signal);
        } catch {
          if (!signal.aborted) throw new ApiError(0, "network_error");
        }
      },
    },

    bankCards: {
      terms: () => client.call<BankTerms>(ROUTES.bankTerms),
      /** The bank sends its one-time code to the card's reserved number. */
      add: (input: AddBankCardInput) => client.call<Enrolment>(ROUTES.addBankCard, { body: input }),
      verify: (enrolmentId: string, code: string) =>
        client.call<BankCardView>(ROUTES.verifyBankCode, { params: { enrolmentId }, body: { code } }),
      resend: (enrolmentId: string) =>
        client.call<Enrolment>(ROUTES.resendBankCode, { params: { enrolmentId }, body: {} }),
      list: (deviceId?: string) =>
        client
          .call<{ cards: BankCardView[] }>(ROUTES.listBankCards, { query: { deviceId } })
          .then((r) => r.cards),
      get: (cardId: string) => client.call<BankCardView>(ROUTES.getBankCard, { params: { cardId } }),
      setStatus: (cardId: string, status: "active" | "suspended") =>
        client.call<BankCardView>(ROUTES.updateBankCard, { params: { cardId }, body: { status } }),
      remove: (cardId: string) => client.call<BankCardView>(ROUTES.deleteBankCard, { params: { cardId } }),
      transactions: (cardId: string) =>
        client
          .call<{ transactions: BankTransaction[] }>(ROUTES.bankCardTransactions, { params: { cardId } })
          .then((r) => r.transactions),
    },

    transit: {
      products: () =>
        client.call<{ products: TransitProduct[] }>(ROUTES.transitProducts).then((r) => r.products),
      cards: () => client.call<{ cards: TransitCardView[] }>(ROUTES.listTransitCards).then((r) => r.cards),
      card: (cardId: string) => client.call<TransitCardView>(ROUTES.getTransitCard, { params: { cardId } }),
      transactions: (cardId: string) =>
        client
          .call<{ transactions: TransitTransaction[] }>(ROUTES.transitTransactions, { params: { cardId } })
          .then((r) => r.transactions),
    },

    doorCards: {
      upload: (input: { dump: string; fileName?: string; name?: string }) =>
        client.call<DoorCardView>(ROUTES.uploadDoorCard, { body: input }),
      list: () => client.call<{ cards: DoorCardView[] }>(ROUTES.listDoorCards).then((r) => r.cards),
      remove: (cardId: string) => client.call<void>(ROUTES.deleteDoorCard, { params: { cardId } }),
      install: (cardId: string, deviceId: string) =>
        client.call<unknown>(ROUTES.installDoorCard, {
          params: { cardId },
          body: { deviceId, activate: true },
        }),
      activate: (cardId: string, deviceId: string) =>
        client.call<unknown>(ROUTES.activateDoorCard, { params: { cardId }, body: { deviceId } }),
    },

    /** The phone and terminal simulator: the phones' side (their SEs, their wallets) and the terminals. */
    sim: {
      terminals: () => client.call<TerminalCatalogue>(ROUTES.simTerminals),
      phones: () => client.call<{ phones: SimPhone[] }>(ROUTES.simPhones).then((r) => r.phones),
      create: (input: CreatePhoneInput) => client.call<SimPhone>(ROUTES.simCreatePhone, { body: input }),
      phone: (phoneId: string) => client.call<SimPhone>(ROUTES.simPhone, { params: phone(phoneId) }),
      remove: (phoneId: string) => client.call<void>(ROUTES.simRemovePhone, { params: phone(phoneId) }),
      sync: (phoneId: string) =>
        client.call<PhoneAndSync>(ROUTES.simSync, { params: phone(phoneId), body: {} }),
      lock: (phoneId: string) => client.call<SimPhone>(ROUTES.simLock, { params: phone(phoneId), body: {} }),
      unlock: (phoneId: string) =>
        client.call<SimPhone>(ROUTES.simUnlock, { params: phone(phoneId), body: { method: "fingerprint" } }),
      verify: (phoneId: string) =>
        client.call<SimPhone>(ROUTES.simVerify, { params: phone(phoneId), body: { method: "fingerprint" } }),
      setDefault: (phoneId: string, bankCardId: string) =>
        client.call<PhoneAndSync>(ROUTES.simDefault, { params: phone(phoneId), body: { bankCardId } }),
      setExpress: (phoneId: string, aid: string) =>
        client.call<PhoneAndSync>(ROUTES.simExpress, { params: phone(phoneId), body: { aid } }),
      reportLost: (phoneId: string) =>
        client.call<PhoneAndSync>(ROUTES.simLost, { params: phone(phoneId), body: {} }),
      openTransit: (
        phoneId: string,
        input: { productId: string; firstTopUp: number; channel: FundingChannel },
      ) => client.call<TransitCardView>(ROUTES.simOpenTransit, { params: phone(phoneId), body: input }),
      topUp: (phoneId: string, cardId: string, amount: number, channel: FundingChannel) =>
        client.call<TopUpView>(ROUTES.simTopUp, { params: { phoneId, cardId }, body: { amount, channel } }),
      refund: (phoneId: string, cardId: string) =>
        client.call<WorkflowView>(ROUTES.simRefund, { params: { phoneId, cardId }, body: {} }),
      transfer: (phoneId: string, cardId: string, targetPhoneId: string) =>
        client.call<WorkflowView>(ROUTES.simTransfer, {
          params: { phoneId, cardId },
          body: { targetPhoneId },
        }),
      tap: (phoneId: string, terminal: TerminalSpec) =>
        client.call<TapResult>(ROUTES.simTap, { params: phone(phoneId), body: { terminal } }),
      doorReader: () => client.call<{ uids: number; credentials: number }>(ROUTES.simDoorReader),
      clearDoorReader: () => client.call<void>(ROUTES.simClearDoorReader),
      inspectDump: (dump: string, fileName?: string) =>
        client.call<DoorInspection>(ROUTES.simInspectDump, {
          body: { dump, ...(fileName ? { fileName } : {}) },
        }),
      readFob: (sample: "blank" | "encrypted") =>
        client.call<ReaderRead>(ROUTES.simReadFob, { body: { sample } }),
    },
  };
}

export type Api = ReturnType<typeof createApi>;
