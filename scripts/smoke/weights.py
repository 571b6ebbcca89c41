"""The smoke model's weights in S3, where the endpoint and the training jobs read them.

The bucket is the operator's weights bucket of the convention cdk.json uses
(``noticebot-weights-{account}-{region}``; created if missing, SSE-S3, public access
blocked) and the prefix is the model id, so ``model.weights_s3_uri`` becomes
``s3://noticebot-weights-{account}-{region}/{model_id}/``. The folder must be the model's
Hugging Face folder (what preflight checks: config.json, tokenizer.json, *.safetensors), from
``--weights-dir`` or downloaded from the hub (the smoke model is ungated). Files already there
with the same size are not sent again. The bucket is left after the run: it is not the
stack's, and it may hold other stages' weights.
"""

from __future__ import annotations

from pathlib import Path

# What the LMI container and train.py read; nothing else of the repository is copied.
WEIGHT_FILES = ("config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                "*.safetensors", "model.safetensors.index.json")
REQUIRED = ("config.json", "tokenizer.json")


def weights_uri(account: str, region: str, model_id: str) -> str:
    return f"s3://noticebot-weights-{account}-{region}/{model_id.strip('/')}/"


def weight_files(folder: Path) -> list[Path]:
    """The files of ``folder`` to stage; ValueError naming what a model folder lacks."""
    found = sorted({p for pattern in WEIGHT_FILES for p in folder.glob(pattern) if p.is_file()})
    names = {p.name for p in found}
    missing = [n for n in REQUIRED if n not in names]
    if not any(n.endswith(".safetensors") for n in names):
        missing.append("*.safetensors")
    if missing:
        raise ValueError(f"{folder} is not a Hugging Face model folder: no {', '.join(missing)}")
    return found


def local_weights(model_id: str, weights_dir: Path | None) -> Path:
    if weights_dir is not None:
        return weights_dir
    from huggingface_hub import snapshot_download

    # HF_HUB_OFFLINE=1 (the Makefile's default) makes this a cache lookup only.
    return Path(snapshot_download(model_id, allow_patterns=list(WEIGHT_FILES)))


def stage(session, uri: str, folder: Path, region: str, log=print) -> int:
    """Uploads the model folder to ``uri``; returns how many files were sent."""
    files = weight_files(folder)
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    s3 = session.client("s3", region_name=region)
    _ensure_bucket(s3, bucket, region, log)
    present = {o["Key"]: o["Size"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])}
    sent = 0
    for path in files:
        key = prefix + path.name
        if present.get(key) == path.stat().st_size:
            continue
        log(f"  staging {path.name} ({path.stat().st_size / 1e6:.1f} MB) to s3://{bucket}/{key}")
        s3.upload_file(str(path), bucket, key)
        sent += 1
    return sent


def _ensure_bucket(s3, bucket: str, region: str, log) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except Exception as exc:  # noqa: BLE001 - 404 means create; anything else is reported
        code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    log(f"  creating the weights bucket {bucket}")
    options = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **options)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
