/**
 * The web has no secure enclave: the token is kept in localStorage (same origin only), and in
 * memory where storage is blocked (private windows, sandboxed frames). Metro picks this file on web.
 */
import type { KeyValueStorage } from "./storageTypes";

const memory = new Map<string, string>();

function local(): Storage | null {
  try {
    return typeof window !== "undefined" && window.localStorage ? window.localStorage : null;
  } catch {
    return null;
  }
}

export const secureStorage: KeyValueStorage = {
  async getItem(key) {
    try {
      return local()?.getItem(key) ?? memory.get(key) ?? null;
    } catch {
      return memory.get(key) ?? null;
    }
  },
  async setItem(key, value) {
    memory.set(key, value);
    try {
      local()?.setItem(key, value);
    } catch {
      // quota or privacy mode: memory only
    }
  },
  async deleteItem(key) {
    memory.delete(key);
    try {
      local()?.removeItem(key);
    } catch {
      // ignore
    }
  },
};
