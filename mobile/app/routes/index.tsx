import { Redirect, useLocalSearchParams } from "expo-router";

import { Loading } from "../components/Screen";
import { useAuth } from "../context/AuthContext";

export default function Index() {
  const { status } = useAuth();
  const { invite } = useLocalSearchParams<{ invite?: string }>();
  // The link an editor shares on the web: `<origin>/?invite=CODE`.
  if (typeof invite === "string" && invite) return <Redirect href={{ pathname: "/accept-invite", params: { code: invite } }} />;
  if (status === "loading") return <Loading label="Starting" />;
  return <Redirect href={status === "signedIn" ? "/board" : "/sign-in"} />;
}
