import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { fakeApi, memberSession, ok, renderWithApp } from "../../test/fixtures";
import { ModelScreen } from "./ModelScreen";

const notFound = { kind: "not-found", code: "not_found", message: "no route for GET /api/models" };

describe("ModelScreen", () => {
  it("says fine-tuning is not available when the server has no such route (404)", async () => {
    const api = fakeApi({ listModels: jest.fn(async () => notFound) });
    renderWithApp(<ModelScreen />, { api });
    expect(await screen.findByTestId("model-unavailable")).toBeTruthy();
    expect(screen.getByText("Not available on this server")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Start fine-tune" })).toBeNull();
  });

  it("starts a fine-tune, follows its status and metrics, then lists the new version", async () => {
    const listModels = jest
      .fn()
      .mockResolvedValueOnce(ok([]))
      .mockResolvedValue(ok([{ model_id: "m2", name: "demo v1", active: false, created_at: "2026-07-01T00:00:00Z", metrics: { eval_loss: 1.23 } }]));
    const getFineTune = jest
      .fn()
      .mockResolvedValueOnce(ok({ job_id: "job-1", status: "running", metrics: { train_loss: 2.5 } }))
      .mockResolvedValue(ok({ job_id: "job-1", status: "completed", metrics: { train_loss: 1.5, eval_loss: 1.23 }, model_id: "m2" }));
    const api = fakeApi({ listModels, getFineTune });
    jest.useFakeTimers();
    try {
      renderWithApp(<ModelScreen />, { api });
      expect(await screen.findByText("The shared base model")).toBeTruthy();
      fireEvent.changeText(screen.getByLabelText("Epochs"), "2");
      fireEvent.changeText(screen.getByLabelText("Learning rate"), "0.001");
      fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
      await waitFor(() => expect(api.startFineTune).toHaveBeenCalledWith({ epochs: 2, learning_rate: 0.001 }));
      expect(await screen.findByLabelText("Fine-tune job-1: queued")).toBeTruthy();
      expect(await screen.findByLabelText("Fine-tune job-1: running", {}, { timeout: 8000 })).toBeTruthy();
      expect(screen.getByText("train loss 2.5000")).toBeTruthy();
      expect(await screen.findByLabelText("Fine-tune job-1: completed", {}, { timeout: 8000 })).toBeTruthy();
      expect(await screen.findByText("demo v1")).toBeTruthy();
      expect(getFineTune).toHaveBeenCalledWith("job-1");
    } finally {
      jest.useRealTimers();
    }
  });

  it("activates a version and rolls back to an older one", async () => {
    const models = [
      { model_id: "m1", name: "v1", active: false, created_at: "2026-01-01T00:00:00Z" },
      { model_id: "m2", name: "v2", active: true, created_at: "2026-02-01T00:00:00Z" },
    ];
    const api = fakeApi({ listModels: jest.fn(async () => ok(models)) });
    renderWithApp(<ModelScreen />, { api });
    expect(await screen.findByTestId("active-model")).toHaveTextContent("v2");
    expect(screen.getByText("Roll back to this version")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Activate v1" }));
    await waitFor(() => expect(api.activateModel).toHaveBeenCalledWith("m1"));
    await waitFor(() => expect(api.listModels).toHaveBeenCalledTimes(2));
  });

  it("checks the parameters and shows a refused start", async () => {
    const api = fakeApi({ startFineTune: jest.fn(async () => ({ kind: "rejected", status: 409, code: "conflict", message: "a fine-tune is already running" })) });
    renderWithApp(<ModelScreen />, { api });
    fireEvent.changeText(await screen.findByLabelText("Epochs"), "0");
    fireEvent.changeText(screen.getByLabelText("Learning rate"), "abc");
    fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
    expect(await screen.findByText("A whole number from 1 to 20.")).toBeTruthy();
    expect(api.startFineTune).not.toHaveBeenCalled();
    fireEvent.changeText(screen.getByLabelText("Epochs"), "3");
    fireEvent.changeText(screen.getByLabelText("Learning rate"), "0.0002");
    fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
    expect(await screen.findByText("a fine-tune is already running")).toBeTruthy();
  });

  it("lets members see the versions but not change them", async () => {
    const api = fakeApi({ listModels: jest.fn(async () => ok([{ model_id: "m1", name: "v1", active: false }])) });
    renderWithApp(<ModelScreen />, { api, session: memberSession() });
    expect(await screen.findByText("v1")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Activate v1" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Start fine-tune" })).toBeNull();
  });
});
