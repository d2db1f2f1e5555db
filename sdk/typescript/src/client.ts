// The client: typed REST calls through openapi-fetch with the user's token,
// the logins (password, TOTP second factor, passkey) and the single-flight
// token refresh that every call and every event stream share.
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen.js";
import type { Handlers } from "./events.js";
import { subscribe, type Subscription, type SubscribeOptions } from "./stream.js";
import { assertionToJSON, attestationToJSON, creationOptions, requestOptions } from "./webauthn.js";

/** API is the prefix of every REST operation of the gateway. */
export const API = "/sparkweb/api/rest";

// publicPaths are the operations that take no access token: a stale one
// must not go with them.
const publicPaths = new Set<string>([
  "/sparkweb/api/rest/login/{username}",
  "/sparkweb/api/rest/totp/authenticate/{username}/{code}",
  "/sparkweb/api/rest/webauthn/authenticate/start/{username}",
  "/sparkweb/api/rest/webauthn/authenticate/finish/{username}",
  "/sparkweb/api/rest/token/refresh",
]);

// credentialsContainer answers the given container, or the browser's.
function credentialsContainer(given?: CredentialsContainer): CredentialsContainer {
  const c = given ?? globalThis.navigator?.credentials;
  if (!c) throw new Error("sparkgate: no WebAuthn credentials container here");
  return c;
}

/** Tokens are what a login or a refresh answers (TokenEntity). */
export type Tokens = components["schemas"]["TokenEntity"];

/** ErrorBody is the JSON body of every error answer. */
export type ErrorBody = components["schemas"]["Error"];

/**
 * retryAfterSeconds reads a Retry-After header (seconds, or an HTTP date)
 * as whole seconds from now; 0 without one.
 */
export function retryAfterSeconds(header: string | null | undefined): number {
  const h = (header ?? "").trim();
  if (!h) return 0;
  if (/^[0-9]+$/.test(h)) return Number(h);
  const at = Date.parse(h);
  return Number.isNaN(at) ? 0 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * SparkgateError is a failed call: the HTTP status and, when the gateway
 * answered one, its JSON error (branch on `status` and `code`), and the
 * seconds its Retry-After asks to wait (429, 503; 0 without one), so an app
 * can say "try again in 5 minutes".
 */
export class SparkgateError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: ErrorBody | undefined;
  readonly retryAfter: number;
  constructor(status: number, body: ErrorBody | undefined, fallback = "request failed", response?: Response) {
    super(body?.message || `sparkgate: ${fallback} (${status})`);
    this.name = "SparkgateError";
    this.status = status;
    this.code = body?.code ?? "";
    this.body = body;
    this.retryAfter = retryAfterSeconds(response?.headers.get("Retry-After"));
  }
}

/**
 * Auth is a login an app manages itself (kept in its own storage, shared
 * between tabs, refreshed under a lock): the client then holds no tokens
 * of its own and asks it for the token at each call and each stream
 * attempt.
 */
export interface Auth {
  /** token answers the access token to send now, or null (logged out). */
  token(): string | null;
  /**
   * refresh makes token() answer a newer token than stale: the stream's
   * expired (refused false) or was refused with 401 (refused true). It
   * rejects with an error whose status is 401 when the login is gone (the
   * stream ends); any other rejection (no network) is retried.
   */
  refresh(stale: string, refused: boolean): Promise<unknown>;
}

/** LoginResult is a finished login, or the ticket of a login that needs a TOTP code. */
export type LoginResult =
  | { tokens: Tokens; mfaRequired?: undefined; ticket?: undefined }
  | { tokens?: undefined; mfaRequired: "totp"; ticket: string };

/** ClientOptions configure a Sparkgate client. */
export interface ClientOptions {
  /** baseUrl is the gateway's origin, e.g. "https://chat.example.org"; empty means the page's own origin. */
  baseUrl?: string;
  /** tokens resume an earlier login (e.g. kept in sessionStorage). */
  tokens?: Tokens | null;
  /** onTokens is called after every login, refresh and logout (null), to keep the tokens. */
  onTokens?: (tokens: Tokens | null) => void;
  /** fetch replaces globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * autoRefresh refreshes the tokens shortly before the access token
   * expires (at four fifths of its life left to run, at most a minute
   * early), so calls never meet an expired token; default true. Event
   * streams refresh on their own when theirs expires either way.
   */
  autoRefresh?: boolean;
  /** auth hands the login to the app (see Auth); tokens, onTokens and autoRefresh are then unused. */
  auth?: Auth;
}

/**
 * Sparkgate is a client of one gateway for one user at a time. `api` makes
 * any REST operation of openapi.yaml, typed, with the current token; the
 * methods wrap the logins, the refresh, the event stream and Web Push.
 */
export class Sparkgate {
  /** api is the openapi-fetch client: `await sg.api.GET("/sparkweb/api/rest/roster")`. */
  readonly api: Client<paths>;
  readonly baseUrl: string;
  private current: Tokens | null;
  private readonly onTokens: ((t: Tokens | null) => void) | undefined;
  private readonly fetchFn: typeof fetch;
  private refreshing: Promise<Tokens> | null = null;
  private autoRefresh: boolean;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly auth: Auth | undefined;

  constructor(opts: ClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? "").replace(/\/+$/, "");
    this.auth = opts.auth;
    this.current = opts.auth ? null : (opts.tokens ?? null);
    this.onTokens = opts.onTokens;
    this.autoRefresh = !opts.auth && (opts.autoRefresh ?? true);
    this.schedule();
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.api = createFetchClient<paths>({ baseUrl: this.baseUrl, fetch: this.fetchFn });
    const auth: Middleware = {
      onRequest: ({ request, schemaPath }) => {
        const token = this.accessToken();
        if (token && !publicPaths.has(schemaPath)) {
          request.headers.set("Authorization", "Bearer " + token);
        }
        return request;
      },
    };
    this.api.use(auth);
  }

  // accessToken is the token a request carries now.
  private accessToken(): string | null {
    return this.auth ? this.auth.token() : (this.current?.token ?? null);
  }

  /** tokens are the current login's tokens, or null when logged out (always null with the auth option). */
  get tokens(): Tokens | null {
    return this.current;
  }

  /** setTokens replaces the tokens (e.g. another tab refreshed them). */
  setTokens(tokens: Tokens | null): void {
    this.current = tokens;
    this.schedule();
    this.onTokens?.(tokens);
  }

  // schedule sets the timer of the next automatic refresh.
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const t = this.current;
    if (!this.autoRefresh || !t?.refreshToken || !t.expiresAt) return;
    const left = Date.parse(t.expiresAt) - Date.now();
    if (!Number.isFinite(left)) return;
    const delay = Math.max(0, left - Math.min(60000, left / 5));
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {}); // a refused refresh shows as 401 on the next call
    }, delay);
    (this.timer as { unref?: () => void }).unref?.(); // never keeps Node running
  }

  /** close stops the automatic refresh; the tokens stay valid. */
  close(): void {
    this.autoRefresh = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * loginWithPassword logs in. When the user has a TOTP second factor the
   * result holds the ticket for loginWithTOTP instead of tokens.
   */
  async loginWithPassword(username: string, password: string, opts: { remember?: boolean } = {}): Promise<LoginResult> {
    const { data, error, response } = await this.api.POST("/sparkweb/api/rest/login/{username}", {
      params: { path: { username }, query: opts.remember ? { remember: true } : {} },
      body: password,
      bodySerializer: (b) => b,
      headers: { "Content-Type": "text/plain" },
    });
    if (data) {
      this.setTokens(data);
      return { tokens: data };
    }
    const e = error as ErrorBody & { mfaRequired?: string; ticket?: string };
    if (response.status === 401 && e?.code === "mfa_required" && e.ticket) {
      return { mfaRequired: "totp", ticket: e.ticket };
    }
    throw new SparkgateError(response.status, e, "login failed", response);
  }

  /**
   * loginWithTOTP finishes a login with a code from the user's
   * authenticator app; `secret` is the ticket from loginWithPassword (or
   * the password itself).
   */
  async loginWithTOTP(username: string, code: string, secret: string, opts: { remember?: boolean } = {}): Promise<Tokens> {
    const { data, error, response } = await this.api.POST("/sparkweb/api/rest/totp/authenticate/{username}/{code}", {
      params: { path: { username, code }, query: opts.remember ? { remember: true } : {} },
      body: secret,
      bodySerializer: (b) => b,
      headers: { "Content-Type": "text/plain" },
    });
    if (!data) throw new SparkgateError(response.status, error as ErrorBody, "TOTP login failed", response);
    this.setTokens(data);
    return data;
  }

  /**
   * loginWithPasskey runs the WebAuthn assertion ceremony: the gateway's
   * options go to credentials.get() (navigator.credentials unless given),
   * and the signed assertion back to the gateway. With an empty username
   * the ceremony names no account: the browser offers every passkey it
   * holds for the site, and the chosen one names the account (the answer's
   * `jid`).
   *
   * `mediation: "conditional"` (with an empty username) is passkey
   * autofill: the browser offers the site's passkeys in the autofill of
   * an input with `autocomplete="username webauthn"`, and the promise
   * settles only when the person picks one (or `signal` aborts it: a
   * page has at most one credentials.get() pending, so abort it before a
   * modal one). The ceremony expires on the gateway after the options'
   * `timeout`; start a new one then. `onRequest` sees the request just
   * before credentials.get() (its `publicKey.timeout`, for one).
   */
  async loginWithPasskey(
    username: string,
    opts: {
      remember?: boolean;
      credentials?: CredentialsContainer;
      mediation?: CredentialMediationRequirement;
      signal?: AbortSignal;
      onRequest?: (request: CredentialRequestOptions) => void;
    } = {},
  ): Promise<Tokens> {
    const start = username
      ? await this.api.POST("/sparkweb/api/rest/webauthn/authenticate/start/{username}", { params: { path: { username } } })
      : await this.api.POST("/sparkweb/api/rest/webauthn/authenticate/start", {});
    if (!start.data) throw new SparkgateError(start.response.status, start.error as ErrorBody, "passkey login failed", start.response);
    const container = credentialsContainer(opts.credentials);
    const request: CredentialRequestOptions = requestOptions(start.data.assertion);
    if (opts.mediation) request.mediation = opts.mediation;
    if (opts.signal) request.signal = opts.signal;
    opts.onRequest?.(request);
    const cred = await container.get(request);
    if (!cred) throw new Error("sparkgate: no passkey was chosen");
    const query: { ceremony?: string; remember?: boolean } = {};
    if (start.data.ceremony) query.ceremony = start.data.ceremony;
    if (opts.remember) query.remember = true;
    const body = assertionToJSON(cred as PublicKeyCredential);
    const fin = username
      ? await this.api.POST("/sparkweb/api/rest/webauthn/authenticate/finish/{username}", { params: { path: { username }, query }, body })
      : await this.api.POST("/sparkweb/api/rest/webauthn/authenticate/finish", { params: { query }, body });
    if (!fin.data) throw new SparkgateError(fin.response.status, fin.error as ErrorBody, "passkey login failed", fin.response);
    this.setTokens(fin.data);
    return fin.data;
  }

  /**
   * registerPasskey adds a passkey to the logged-in user: the gateway asks
   * for the password again, credentials.create() makes the key.
   */
  async registerPasskey(
    username: string,
    password: string,
    opts: { name?: string; credentials?: CredentialsContainer } = {},
  ): Promise<void> {
    const start = await this.api.POST("/sparkweb/api/rest/webauthn/register/start/{username}", {
      params: { path: { username } },
      body: password,
      bodySerializer: (b) => b,
      headers: { "Content-Type": "text/plain" },
    });
    if (!start.data) throw new SparkgateError(start.response.status, start.error as ErrorBody, "passkey registration failed", start.response);
    const container = credentialsContainer(opts.credentials);
    const cred = await container.create(creationOptions(start.data.credentials));
    if (!cred) throw new Error("sparkgate: no passkey was made");
    const query: { ceremony?: string; name?: string } = {};
    if (start.data.ceremony) query.ceremony = start.data.ceremony;
    if (opts.name) query.name = opts.name;
    const fin = await this.api.POST("/sparkweb/api/rest/webauthn/register/finish/{username}", {
      params: { path: { username }, query },
      body: attestationToJSON(cred as PublicKeyCredential),
    });
    if (fin.error) throw new SparkgateError(fin.response.status, fin.error as ErrorBody, "passkey registration failed", fin.response);
  }

  /**
   * refresh trades the refresh token for a new pair. Calls made while one
   * refresh is under way share it: a refresh token is single-use, and
   * presenting it twice would revoke the whole login.
   */
  refresh(): Promise<Tokens> {
    if (this.auth) return Promise.reject(new Error("sparkgate: the app refreshes its own login (the auth option)"));
    if (this.refreshing) return this.refreshing;
    const spent = this.current;
    const run = async (): Promise<Tokens> => {
      if (!spent?.refreshToken) throw new SparkgateError(401, undefined, "no refresh token");
      const { data, error, response } = await this.api.POST("/sparkweb/api/rest/token/refresh", {
        body: { refreshToken: spent.refreshToken },
        });
      if (!data) throw new SparkgateError(response.status, error as ErrorBody, "refresh failed", response);
      if (this.current === spent) this.setTokens(data);
      return data;
    };
    this.refreshing = run().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** logout revokes the login (its refresh family) and forgets the tokens. */
  async logout(): Promise<void> {
    if (!this.accessToken()) return;
    const { error, response } = await this.api.POST("/sparkweb/api/rest/logout", {});
    if (!this.auth) this.setTokens(null);
    if (error && response.status !== 401) throw new SparkgateError(response.status, error as ErrorBody, "logout failed", response);
  }

  /**
   * subscribe opens the event stream and calls the handlers for each event,
   * in order, each once. It resumes after a cut with the last event id,
   * backs off while the gateway cannot be reached, refreshes the token when
   * the stream ends with it (through the auth option's refresh, when
   * given), and stops on logout or close().
   */
  subscribe(handlers: Handlers, opts: SubscribeOptions = {}): Subscription {
    return subscribe(
      {
        url: this.baseUrl + "/sparkweb/api/sse",
        fetch: this.fetchFn,
        token: () => this.accessToken(),
        refresh: async (stale, refused) => {
          if (this.auth) await this.auth.refresh(stale, refused);
          else await this.refresh();
        },
      },
      handlers,
      opts,
    );
  }
}
