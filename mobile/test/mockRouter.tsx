import type { ReactNode } from "react";
import { Text } from "react-native";

export const mockRouter = {
  push: jest.fn(),
  replace: jest.fn(),
  navigate: jest.fn(),
  back: jest.fn(),
  canGoBack: jest.fn(() => false),
};

export const mockState: { params: Record<string, string>; pathname: string } = { params: {}, pathname: "/board" };

function hrefText(href: unknown): string {
  return typeof href === "string" ? href : JSON.stringify(href);
}

export const expoRouterMock = {
  useRouter: () => mockRouter,
  router: mockRouter,
  useLocalSearchParams: () => mockState.params,
  useGlobalSearchParams: () => mockState.params,
  usePathname: () => mockState.pathname,
  Redirect: ({ href }: { href: unknown }) => <Text testID="redirect">{`Redirect to ${hrefText(href)}`}</Text>,
  Link: ({ children }: { children: ReactNode }) => <>{children}</>,
  Slot: () => <Text testID="slot">slot</Text>,
  Stack: () => null,
};
