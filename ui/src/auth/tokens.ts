/** The signed-in session's tokens, kept in localStorage so a reload stays signed in and other
 * tabs see a sign-out. */
export interface Tokens {
  access_token: string;
  refresh_token: string;
  workspace_id: string;
  /** Epoch milliseconds when the access token expires. */
  expires_at: number;
}

const KEY = "cm.session";
type Listener = (tokens: Tokens | null) => void;
const listeners = new Set<Listener>();

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

export function saveTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener(tokens));
}

export function onTokens(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function tokensFrom(pair: {
  access_token: string;
  refresh_token: string;
  workspace_id: string;
  expires_in: number;
}): Tokens {
  return {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    workspace_id: pair.workspace_id,
    expires_at: Date.now() + pair.expires_in * 1000,
  };
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) listeners.forEach((listener) => listener(loadTokens()));
  });
}
