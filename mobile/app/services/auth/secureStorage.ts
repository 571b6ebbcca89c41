/** Tokens live in the platform's secure storage: Keychain / Keystore through expo-secure-store. */
import * as SecureStore from "expo-secure-store";

import type { KeyValueStorage } from "./storageTypes";

export const secureStorage: KeyValueStorage = {
  getItem: (key) => SecureStore.getItemAsync(key),
  setItem: (key, value) => SecureStore.setItemAsync(key, value),
  deleteItem: (key) => SecureStore.deleteItemAsync(key),
};
