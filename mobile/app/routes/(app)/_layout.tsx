import { Redirect, Slot } from "expo-router";

import { AppShell } from "../../components/AppShell";
import { Loading } from "../../components/Screen";
import { useAuth } from "../../context/AuthContext";

/** Every screen in this group needs a signed-in user; a 401 anywhere lands back on /sign-in. */
export default function SignedInLayout() {
  const { status } = useAuth();
  if (status === "loading") return <Loading label="Starting" />;
  if (status === "signedOut") return <Redirect href="/sign-in" />;
  return (
    <AppShell>
      <Slot />
    </AppShell>
  );
}
