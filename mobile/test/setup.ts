/**
 * Jest setup: the router is mocked (screens are rendered directly, navigation calls are recorded)
 * and the safe-area library gets its own jest mock.
 */
import { mockRouter, mockState } from "./mockRouter";

jest.mock("expo-router", () => require("./mockRouter").expoRouterMock);
jest.mock("react-native-safe-area-context", () => require("react-native-safe-area-context/jest/mock").default);

beforeEach(() => {
  mockState.params = {};
  mockState.pathname = "/board";
  Object.values(mockRouter).forEach((fn) => (fn as jest.Mock).mockReset?.());
  mockRouter.canGoBack.mockReturnValue(false);
});
