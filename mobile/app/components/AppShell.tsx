import { type Href, usePathname, useRouter } from "expo-router";
import { type ReactNode, useEffect } from "react";
import { Pressable, StyleSheet, Text, useWindowDimensions, View } from "react-native";
import { SafeAreaView } from "react-native-safe-area-context";

import { useAuth } from "../context/AuthContext";
import { useMe } from "../context/MeContext";
import { DESKTOP_MIN_WIDTH, colors, spacing } from "../theme";

interface NavItem {
  href: Href;
  path: string;
  label: string;
  icon: string;
  editorsOnly?: boolean;
}

const NAV: NavItem[] = [
  { href: "/board", path: "/board", label: "Board", icon: "▤" },
  { href: "/ask", path: "/ask", label: "Ask", icon: "?" },
  { href: "/documents", path: "/documents", label: "Documents", icon: "▭" },
  { href: "/model", path: "/model", label: "Model", icon: "◎" },
  { href: "/members", path: "/members", label: "Members", icon: "☰", editorsOnly: true },
  { href: "/profile", path: "/profile", label: "Profile", icon: "☺" },
];

/** The Board tab's badge: "9+" above nine. */
export function unreadLabel(count: number): string {
  return count > 9 ? "9+" : String(count);
}

/**
 * The signed-in frame: a side bar on desktop-sized windows, a tab bar at the bottom on phones.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const { width } = useWindowDimensions();
  const desktop = width >= DESKTOP_MIN_WIDTH;
  const pathname = usePathname();
  const router = useRouter();
  const { session, signOut } = useAuth();
  const { me, reload } = useMe();
  const editor = me ? me.role === "editor" : !!session?.isEditor;
  const unread = me?.unread_notices ?? 0;

  // The unread count (and role) is fresh on every move between screens.
  useEffect(() => {
    void reload();
  }, [pathname, reload]);

  const isActive = (item: NavItem) => pathname === item.path || (item.path === "/board" && pathname.startsWith("/notices"));
  const items = NAV.filter((item) => !item.editorsOnly || editor).map((item) => {
    const active = isActive(item);
    const badge = item.path === "/board" && unread > 0 ? unread : 0;
    return (
      <Pressable
        key={item.path}
        accessibilityRole="link"
        accessibilityLabel={badge ? `${item.label}, ${badge} unread` : item.label}
        accessibilityState={{ selected: active }}
        onPress={() => router.navigate(item.href)}
        style={[desktop ? styles.sideItem : styles.tabItem, active && (desktop ? styles.sideActive : styles.tabActive)]}
      >
        <Text style={[styles.icon, active && styles.activeText]} importantForAccessibility="no" accessibilityElementsHidden>
          {item.icon}
        </Text>
        <Text style={[desktop ? styles.sideLabel : styles.tabLabel, active && styles.activeText]}>{item.label}</Text>
        {badge ? (
          <View style={styles.badge} testID="unread-badge">
            <Text style={styles.badgeText}>{unreadLabel(badge)}</Text>
          </View>
        ) : null}
      </Pressable>
    );
  });

  const who = session ? `${me?.email ?? session.username} · ${me?.workspace_id ?? session.workspace}${editor ? " · editor" : ""}` : "";
  const signOutButton = (
    <Pressable accessibilityRole="button" accessibilityLabel="Sign out" onPress={() => void signOut()} style={styles.signOut}>
      <Text style={styles.signOutText}>Sign out</Text>
    </Pressable>
  );

  if (desktop) {
    return (
      <SafeAreaView style={styles.desktopRoot}>
        <View style={styles.sidebar} accessibilityRole="menu" accessibilityLabel="Main navigation">
          <Text style={styles.brand} accessibilityRole="header">
            Noticebot
          </Text>
          <Text style={styles.who} numberOfLines={2}>
            {who}
          </Text>
          <View style={styles.sideItems}>{items}</View>
          {signOutButton}
        </View>
        <View style={styles.main}>{children}</View>
      </SafeAreaView>
    );
  }
  return (
    <SafeAreaView style={styles.phoneRoot}>
      <View style={styles.topBar}>
        <View style={styles.topBarText}>
          <Text style={styles.brandSmall} accessibilityRole="header">
            Noticebot
          </Text>
          <Text style={styles.whoSmall} numberOfLines={1}>
            {who}
          </Text>
        </View>
        {signOutButton}
      </View>
      <View style={styles.main}>{children}</View>
      <View style={styles.tabBar} accessibilityRole="tablist" accessibilityLabel="Main navigation">
        {items}
      </View>
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  desktopRoot: { flex: 1, flexDirection: "row", backgroundColor: colors.background },
  phoneRoot: { flex: 1, backgroundColor: colors.background },
  sidebar: { width: 220, backgroundColor: colors.surface, borderRightWidth: 1, borderRightColor: colors.border, padding: spacing.lg, gap: spacing.sm },
  brand: { fontSize: 22, fontWeight: "800", color: colors.primary },
  brandSmall: { fontSize: 18, fontWeight: "800", color: colors.primary },
  who: { fontSize: 13, color: colors.muted, marginBottom: spacing.md },
  whoSmall: { fontSize: 12, color: colors.muted },
  sideItems: { gap: spacing.xs, flex: 1 },
  sideItem: { flexDirection: "row", alignItems: "center", gap: spacing.sm, paddingVertical: spacing.sm, paddingHorizontal: spacing.md, borderRadius: 8, minHeight: 44 },
  sideActive: { backgroundColor: colors.infoBg },
  sideLabel: { fontSize: 16, color: colors.text, fontWeight: "500" },
  icon: { fontSize: 16, color: colors.muted, width: 18, textAlign: "center" },
  activeText: { color: colors.primary, fontWeight: "700" },
  main: { flex: 1 },
  topBar: { flexDirection: "row", alignItems: "center", justifyContent: "space-between", paddingHorizontal: spacing.lg, paddingVertical: spacing.sm, backgroundColor: colors.surface, borderBottomWidth: 1, borderBottomColor: colors.border },
  topBarText: { flex: 1 },
  tabBar: { flexDirection: "row", backgroundColor: colors.surface, borderTopWidth: 1, borderTopColor: colors.border },
  tabItem: { flex: 1, alignItems: "center", paddingVertical: spacing.sm, minHeight: 52, justifyContent: "center" },
  tabActive: { borderTopWidth: 2, borderTopColor: colors.primary },
  tabLabel: { fontSize: 12, color: colors.text },
  badge: { minWidth: 20, height: 20, borderRadius: 10, paddingHorizontal: 6, backgroundColor: colors.danger, alignItems: "center", justifyContent: "center" },
  badgeText: { color: "#fff", fontSize: 12, fontWeight: "700" },
  signOut: { paddingHorizontal: spacing.md, paddingVertical: spacing.sm, minHeight: 44, justifyContent: "center" },
  signOutText: { color: colors.primary, fontWeight: "600" },
});
