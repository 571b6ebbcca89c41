"""The model server: the SageMaker model container's contract, served from this package.

The local stack runs it in-process (``LocalModelEndpoint``: llama.cpp for the base model,
transformers + PEFT for fine-tuned LoRA adapters); the SageMaker serving image
(``sagemaker/serving``) runs the PEFT backend behind the same HTTP server. Payloads and
replies are the model contract's (``noticebot.model_contract``), so both speak byte for byte
what the chat adapters send a SageMaker endpoint.

Modules: ``llama_cpp_backend`` (the local endpoint), ``peft_backend`` (adapters on a base
model in transformers), ``decoding`` (the token loop), ``adapter_folders`` (what a deployable
adapter is), ``payloads`` (requests as the server's errors), ``http_server`` (/ping and
/invocations).
"""
