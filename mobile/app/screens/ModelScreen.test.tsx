import { fireEvent, screen, waitFor, within } from "@testing-library/react-native";

import { fakeApi, fineTuneJob, memberSession, modelList, modelVersion, ok, renderWithApp } from "../../test/fixtures";
import { ModelScreen } from "./ModelScreen";

const notFound = { kind: "not-found", code: "not_found", message: "no route for GET /api/models" };
const tooLittleData = {
  kind: "rejected",
  status: 422,
  code: "unprocessable",
  message: "too little data to fine-tune: 0 question/answer pairs and 9 document passages after removing 0 duplicates and 0 empty ones; at least 10 are needed.",
};
const alreadyRunning = {
  kind: "rejected",
  status: 409,
  code: "conflict",
  message: "fine-tune job-7 is still running; one job runs per workspace at a time",
};

async function withFakeTimers(run: () => Promise<void>) {
  jest.useFakeTimers();
  try {
    await run();
  } finally {
    jest.useRealTimers();
  }
}

describe("ModelScreen", () => {
  it("says fine-tuning is not available when the server has no such route (404)", async () => {
    const api = fakeApi({ listModels: jest.fn(async () => notFound), listFineTunes: jest.fn(async () => notFound) });
    renderWithApp(<ModelScreen />, { api });
    expect(await screen.findByTestId("model-unavailable")).toBeTruthy();
    expect(screen.getByText("Not available on this server")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Start fine-tune" })).toBeNull();
  });

  it("lists the versions with their metrics, the active badge and why the others are not active", async () => {
    const models = [
      modelVersion({
        model_id: "m2",
        name: "demo v2",
        active: true,
        base_model: "/models/SmolLM2-135M.gguf",
        created_at: "2026-02-01T00:00:00Z",
        metrics: { train_seconds: 93.7, base_eval_loss: 3.5, eval_loss: 1.23, peak_memory_mb: 1684.3 },
        reason: "validation loss 1.2300 beat the base model's 3.5000 on the same split (activated on arrival)",
      }),
      modelVersion({ model_id: "m1", name: "demo v1", created_at: "2026-01-01T00:00:00Z", reason: "replaced by m2", metrics: { train_loss: 2.5 } }),
      modelVersion({ model_id: "m0", name: "demo v0", status: "failed", reason: "deployment failed: adapter did not load" }),
    ];
    renderWithApp(<ModelScreen />, { api: fakeApi({ listModels: jest.fn(async () => ok(modelList(models, { base_model: "SmolLM2-135M" }))) }) });
    expect(await screen.findByTestId("active-model")).toHaveTextContent("demo v2");
    expect(screen.getByText("A fine-tune of SmolLM2-135M.gguf")).toBeTruthy();

    const v2 = screen.getByTestId("model-m2");
    expect(within(v2).getByText("Active")).toBeTruthy();
    expect(within(v2).getByText("validation loss 1.2300 · base model's validation loss 3.5000")).toBeTruthy();
    expect(within(v2).getByText(/^from SmolLM2-135M\.gguf/)).toBeTruthy();
    expect(within(v2).getByText("validation loss 1.2300 beat the base model's 3.5000 on the same split (activated on arrival)")).toBeTruthy();
    expect(within(v2).queryByRole("button")).toBeNull();

    const v1 = screen.getByTestId("model-m1");
    expect(within(v1).queryByText("Active")).toBeNull();
    expect(within(v1).getByText("train loss 2.5000")).toBeTruthy();
    expect(within(v1).getByText("replaced by m2")).toBeTruthy();
    expect(within(v1).getByRole("button", { name: "Activate demo v1" })).toHaveTextContent("Roll back to this version");

    const v0 = screen.getByTestId("model-m0");
    expect(within(v0).getByText("Failed")).toBeTruthy();
    expect(within(v0).getByText("deployment failed: adapter did not load")).toBeTruthy();
    expect(within(v0).queryByRole("button")).toBeNull();
  });

  it("starts a fine-tune and follows it through running and deploying to the new version", async () => {
    const listModels = jest
      .fn()
      .mockResolvedValueOnce(ok(modelList([])))
      .mockResolvedValue(ok(modelList([modelVersion({ model_id: "m2", name: "demo v1", active: true, metrics: { eval_loss: 1.23 }, reason: "active: better than the base model" })])));
    const getFineTune = jest
      .fn()
      .mockResolvedValueOnce(ok(fineTuneJob({ status: "running", stage: "training", progress: 0.4, metrics: { train_loss: 2.5, step: 4 } })))
      .mockResolvedValueOnce(ok(fineTuneJob({ status: "deploying", stage: "deploying", progress: 1, metrics: { train_loss: 1.5, eval_loss: 1.23 } })))
      .mockResolvedValue(ok(fineTuneJob({ status: "completed", stage: "completed", progress: 1, metrics: { train_loss: 1.5, eval_loss: 1.23 }, model_id: "m2", finished_at: "2026-07-01T11:00:00Z" })));
    const api = fakeApi({ listModels, getFineTune });
    await withFakeTimers(async () => {
      renderWithApp(<ModelScreen />, { api });
      expect(await screen.findByText("The shared base model")).toBeTruthy();
      expect(screen.getByText("SmolLM2, not fine-tuned")).toBeTruthy();
      expect(screen.getByText("No fine-tuned versions yet")).toBeTruthy();
      expect(screen.queryByRole("button", { name: "Roll back to the base model" })).toBeNull();

      fireEvent.changeText(screen.getByLabelText("Epochs"), "2");
      fireEvent.changeText(screen.getByLabelText("Learning rate"), "0.001");
      fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
      await waitFor(() => expect(api.startFineTune).toHaveBeenCalledWith({ epochs: 2, learning_rate: 0.001 }));
      expect(await screen.findByLabelText("Fine-tune job-1: queued")).toBeTruthy();
      expect(screen.getByText("21 training and 2 validation examples")).toBeTruthy();
      expect(screen.getByRole("button", { name: "Start fine-tune" })).toBeDisabled();

      expect(await screen.findByLabelText("Fine-tune job-1: running", {}, { timeout: 8000 })).toBeTruthy();
      expect(screen.getByText("Stage: training")).toBeTruthy();
      const progress = screen.getByRole("progressbar", { name: "Fine-tune progress" });
      expect(progress.props.accessibilityValue).toEqual({ min: 0, max: 100, now: 40, text: "40%" });
      expect(screen.getByText("train loss 2.5000 · step 4")).toBeTruthy();

      expect(await screen.findByLabelText("Fine-tune job-1: deploying", {}, { timeout: 8000 })).toBeTruthy();
      expect(screen.getByText("Training finished; deploying the new version…")).toBeTruthy();
      expect(screen.getByRole("button", { name: "Start fine-tune" })).toBeDisabled();

      expect(await screen.findByLabelText("Fine-tune job-1: completed", {}, { timeout: 8000 })).toBeTruthy();
      expect(screen.getByText("Finished. New version: demo v1.")).toBeTruthy();
      expect(await screen.findByTestId("model-m2")).toBeTruthy();
      expect(screen.getByTestId("active-model")).toHaveTextContent("demo v1");
      expect(screen.getByRole("button", { name: "Start fine-tune" })).not.toBeDisabled();
      expect(getFineTune).toHaveBeenCalledWith("job-1");
      const polls = getFineTune.mock.calls.length;
      jest.advanceTimersByTime(10_000);
      expect(getFineTune).toHaveBeenCalledTimes(polls); // no polling once it has finished
    });
  });

  it("picks up a job that was already running when the screen opened", async () => {
    const listFineTunes = jest.fn(async () => ok([fineTuneJob({ job_id: "job-7", status: "running", progress: 0.25 }), fineTuneJob({ job_id: "job-6", status: "failed" })]));
    const getFineTune = jest.fn(async () => ok(fineTuneJob({ job_id: "job-7", status: "running", progress: 0.5 })));
    await withFakeTimers(async () => {
      renderWithApp(<ModelScreen />, { api: fakeApi({ listFineTunes, getFineTune }) });
      expect(await screen.findByLabelText("Fine-tune job-7: running")).toBeTruthy();
      expect(screen.getByRole("progressbar").props.accessibilityValue.now).toBe(25);
      await waitFor(() => expect(screen.getByRole("progressbar").props.accessibilityValue.now).toBe(50), { timeout: 8000 });
      expect(getFineTune).toHaveBeenCalledWith("job-7");
    });
  });

  it("checks the form, then shows the server's 422 message", async () => {
    const api = fakeApi({ startFineTune: jest.fn(async () => tooLittleData) });
    renderWithApp(<ModelScreen />, { api });
    fireEvent.changeText(await screen.findByLabelText("Epochs"), "1.5");
    fireEvent.changeText(screen.getByLabelText("Learning rate"), "abc");
    fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
    expect(await screen.findByText("A whole number, 1 or more.")).toBeTruthy();
    expect(screen.getByText("A positive number, e.g. 0.0002.")).toBeTruthy();
    expect(api.startFineTune).not.toHaveBeenCalled();

    fireEvent.changeText(screen.getByLabelText("Epochs"), "3");
    fireEvent.changeText(screen.getByLabelText("Learning rate"), "0.0002");
    fireEvent.press(screen.getByRole("button", { name: "Start fine-tune" }));
    const banner = await screen.findByTestId("start-problem");
    expect(within(banner).getByText("Cannot start this fine-tune")).toBeTruthy();
    expect(within(banner).getByText(tooLittleData.message)).toBeTruthy();
    expect(api.startFineTune).toHaveBeenCalledWith({ epochs: 3, learning_rate: 0.0002 });
    expect(screen.queryByTestId("fine-tune-job")).toBeNull();
    expect(screen.queryByText("A whole number, 1 or more.")).toBeNull();
  });

  it("shows the 409 message and the job that is already running", async () => {
    const listFineTunes = jest
      .fn()
      .mockResolvedValueOnce(ok([]))
      .mockResolvedValue(ok([fineTuneJob({ job_id: "job-7", status: "running", stage: "training" })]));
    const api = fakeApi({ startFineTune: jest.fn(async () => alreadyRunning), listFineTunes, getFineTune: jest.fn(async () => ok(fineTuneJob({ job_id: "job-7" }))) });
    renderWithApp(<ModelScreen />, { api });
    fireEvent.press(await screen.findByRole("button", { name: "Start fine-tune" }));
    const banner = await screen.findByTestId("start-problem");
    expect(within(banner).getByText("A fine-tune is already running")).toBeTruthy();
    expect(within(banner).getByText(alreadyRunning.message)).toBeTruthy();
    expect(await screen.findByLabelText("Fine-tune job-7: running")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Start fine-tune" })).toBeDisabled();
  });

  it("shows a launch failure (503) as a server problem", async () => {
    const api = fakeApi({ startFineTune: jest.fn(async () => ({ kind: "server", status: 503, message: "the training job could not be started; try again later" })) });
    renderWithApp(<ModelScreen />, { api });
    fireEvent.press(await screen.findByRole("button", { name: "Start fine-tune" }));
    const banner = await screen.findByTestId("start-problem");
    expect(within(banner).getByText("The fine-tune could not be started")).toBeTruthy();
    expect(within(banner).getByText("the training job could not be started; try again later")).toBeTruthy();
  });

  it("activates a version, rolls back to an older one and to the base model", async () => {
    const models = [
      modelVersion({ model_id: "m1", name: "v1", created_at: "2026-01-01T00:00:00Z" }),
      modelVersion({ model_id: "m2", name: "v2", active: true, created_at: "2026-02-01T00:00:00Z" }),
    ];
    const api = fakeApi({
      listModels: jest.fn(async () => ok(modelList(models))),
      activateModel: jest.fn(async (id: string) => ok(modelVersion({ model_id: id, active: true }))),
    });
    renderWithApp(<ModelScreen />, { api });
    expect(await screen.findByTestId("active-model")).toHaveTextContent("v2");
    expect(screen.getByText("Roll back to this version")).toBeTruthy();
    fireEvent.press(screen.getByRole("button", { name: "Activate v1" }));
    await waitFor(() => expect(api.activateModel).toHaveBeenCalledWith("m1"));
    await waitFor(() => expect(api.listModels).toHaveBeenCalledTimes(2));

    fireEvent.press(screen.getByRole("button", { name: "Roll back to the base model" }));
    await waitFor(() => expect(api.activateModel).toHaveBeenLastCalledWith("base"));
    await waitFor(() => expect(api.listModels).toHaveBeenCalledTimes(3));
  });

  it("shows why an activation was refused", async () => {
    const api = fakeApi({
      listModels: jest.fn(async () => ok(modelList([modelVersion({ model_id: "m1", name: "v1" })]))),
      activateModel: jest.fn(async () => ({ kind: "rejected", status: 409, code: "conflict", message: "model m1 is not deployed" })),
    });
    renderWithApp(<ModelScreen />, { api });
    fireEvent.press(await screen.findByRole("button", { name: "Activate v1" }));
    const banner = await screen.findByTestId("activate-problem");
    expect(within(banner).getByText("model m1 is not deployed")).toBeTruthy();
  });

  it("lets members see the versions but not change them", async () => {
    const models = [modelVersion({ model_id: "m2", name: "v2", active: true }), modelVersion({ model_id: "m1", name: "v1", reason: "replaced by v2" })];
    const api = fakeApi({ listModels: jest.fn(async () => ok(modelList(models))) });
    renderWithApp(<ModelScreen />, { api, session: memberSession() });
    expect(await screen.findByText("v1")).toBeTruthy();
    expect(screen.getByText("replaced by v2")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Activate v1" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Roll back to the base model" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Start fine-tune" })).toBeNull();
  });
});
