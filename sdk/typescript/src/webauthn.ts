// The JSON forms of WebAuthn (binary fields as base64url) the gateway
// speaks, to and from the ArrayBuffers navigator.credentials takes.

/** toBase64url encodes bytes as base64url without padding. */
export function toBase64url(buf: ArrayBuffer | ArrayBufferView): string {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** fromBase64url decodes base64url (padded or not). */
export function fromBase64url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type JSONObject = { [key: string]: unknown };

function decodeIds(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((c: JSONObject) => ({ ...c, id: fromBase64url(String(c.id)) }) as unknown as PublicKeyCredentialDescriptor);
}

/** creationOptions turns the gateway's `credentials` ({publicKey: …}) into options for credentials.create(). */
export function creationOptions(json: JSONObject): CredentialCreationOptions {
  const pk = (json.publicKey ?? json) as JSONObject;
  const user = pk.user as JSONObject;
  return {
    publicKey: {
      ...(pk as object),
      challenge: fromBase64url(String(pk.challenge)),
      user: { ...(user as object), id: fromBase64url(String(user.id)) },
      excludeCredentials: decodeIds(pk.excludeCredentials),
    } as unknown as PublicKeyCredentialCreationOptions,
  };
}

/** requestOptions turns the gateway's `assertion` ({publicKey: …}) into options for credentials.get(). */
export function requestOptions(json: JSONObject): CredentialRequestOptions {
  const pk = (json.publicKey ?? json) as JSONObject;
  return {
    publicKey: {
      ...(pk as object),
      challenge: fromBase64url(String(pk.challenge)),
      allowCredentials: decodeIds(pk.allowCredentials),
    } as unknown as PublicKeyCredentialRequestOptions,
  };
}

/** attestationToJSON is the JSON the register finish operation takes. */
export function attestationToJSON(cred: PublicKeyCredential): JSONObject {
  const r = cred.response as AuthenticatorAttestationResponse;
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : undefined,
    },
  };
}

/** assertionToJSON is the JSON the authenticate finish operation takes. */
export function assertionToJSON(cred: PublicKeyCredential): JSONObject {
  const r = cred.response as AuthenticatorAssertionResponse;
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined,
    },
  };
}
