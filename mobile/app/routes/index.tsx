import { Redirect } from "expo-router";

import { Loading } from "../components/Screen";
import { useAuth } from "../context/AuthContext";

export default function Index() {
  const { status } = useAuth();
  if (status === "loading") return <Loading label="Starting" />;
  return <Redirect href={status === "signedIn" ? "/board" : "/sign-in"} />;
}
