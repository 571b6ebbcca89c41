import { useCallback, useEffect, useRef, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiProblem, ChatAnswer } from "../services/api";

export interface ChatTurn {
  id: number;
  query: string;
  /** pending: asked, nothing written yet; streaming: the model is writing `draft`;
   * stopped: the user stopped it (`draft` keeps what was written). */
  status: "pending" | "streaming" | "answered" | "failed" | "stopped";
  /** The model's text so far. Not yet checked against the sources: the answer replaces it. */
  draft: string;
  answer?: ChatAnswer;
  problem?: ApiProblem;
}

/** One conversation, answered as the model writes: each question is sent with the conversation
 * id of the previous answer, and one answer is under way at a time (`stop` ends it). */
export function useChat() {
  const api = useApi();
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const conversationId = useRef<string | undefined>(undefined);
  const nextId = useRef(1);
  const inFlight = useRef<AbortController | null>(null);
  const pending = turns.some((t) => t.status === "pending" || t.status === "streaming");

  const update = useCallback((id: number, change: (t: ChatTurn) => ChatTurn) => {
    setTurns((prev) => prev.map((t) => (t.id === id ? change(t) : t)));
  }, []);

  const ask = useCallback(
    async (query: string) => {
      const q = query.trim();
      if (!q) return;
      const id = nextId.current++;
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      setTurns((prev) => [...prev, { id, query: q, status: "pending", draft: "" }]);
      const result = await api.chatStream(
        { query: q, conversation_id: conversationId.current },
        {
          signal: controller.signal,
          onToken: (text) => update(id, (t) => ({ ...t, status: "streaming", draft: t.draft + text })),
        },
      );
      if (inFlight.current === controller) inFlight.current = null;
      update(id, (t) => {
        if (result.kind === "ok") return { ...t, status: "answered", answer: result.data, draft: "" };
        if (result.kind === "aborted") return { ...t, status: "stopped" };
        return { ...t, status: "failed", problem: result };
      });
      // A stopped answer was not recorded: the conversation goes on from the one before.
      if (result.kind === "ok" && !controller.signal.aborted) conversationId.current = result.data.conversation_id;
    },
    [api, update],
  );

  const stop = useCallback(() => inFlight.current?.abort(), []);

  const reset = useCallback(() => {
    inFlight.current?.abort();
    conversationId.current = undefined;
    setTurns([]);
  }, []);

  // Leaving the screen stops the answer: nobody is reading it.
  useEffect(() => () => inFlight.current?.abort(), []);

  return { turns, pending, ask, stop, reset };
}
