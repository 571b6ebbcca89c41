import { useCallback, useRef, useState } from "react";

import { useApi } from "../context/AuthContext";
import type { ApiProblem, ChatAnswer } from "../services/api";

export interface ChatTurn {
  id: number;
  query: string;
  status: "pending" | "answered" | "failed";
  answer?: ChatAnswer;
  problem?: ApiProblem;
}

/** One conversation: each question is sent with the conversation id of the previous answer. */
export function useChat() {
  const api = useApi();
  const [turns, setTurns] = useState<ChatTurn[]>([]);
  const conversationId = useRef<string | undefined>(undefined);
  const nextId = useRef(1);
  const pending = turns.some((t) => t.status === "pending");

  const ask = useCallback(
    async (query: string) => {
      const q = query.trim();
      if (!q) return;
      const id = nextId.current++;
      setTurns((prev) => [...prev, { id, query: q, status: "pending" }]);
      const result = await api.chat({ query: q, conversation_id: conversationId.current });
      setTurns((prev) =>
        prev.map((t) => {
          if (t.id !== id) return t;
          if (result.kind === "ok") return { ...t, status: "answered", answer: result.data };
          return { ...t, status: "failed", problem: result };
        }),
      );
      if (result.kind === "ok") conversationId.current = result.data.conversation_id;
    },
    [api],
  );

  const reset = useCallback(() => {
    conversationId.current = undefined;
    setTurns([]);
  }, []);

  return { turns, pending, ask, reset };
}
