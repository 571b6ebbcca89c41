import { Redirect, useLocalSearchParams, useRouter } from "expo-router";
import { useEffect, useRef, useState } from "react";

import { AppButton } from "../components/AppButton";
import { Banner } from "../components/Banner";
import { Loading, Screen } from "../components/Screen";
import { useAuth } from "../context/AuthContext";

/** Where Cognito's hosted UI sends the user back with `?code=...&state=...`. */
export function AuthCallbackScreen() {
  const params = useLocalSearchParams<{ code?: string; state?: string; error?: string; error_description?: string }>();
  const { completeCognito, status } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void completeCognito(params).then((r) => {
      if (!r.ok) setError(r.reason);
    });
  }, [completeCognito, params]);

  if (status === "signedIn") return <Redirect href="/board" />;
  return (
    <Screen title="Signing in">
      {error ? (
        <>
          <Banner message={error} />
          <AppButton label="Back to sign in" onPress={() => router.replace("/sign-in")} />
        </>
      ) : (
        <Loading label="Finishing sign-in" />
      )}
    </Screen>
  );
}
