#!/usr/bin/env python3
"""A reference inference engine: the two protocols the SDK's remote backbone speaks, served on
loopback from the standard library's http.server, for tests and for trying the remote path
without a GPU (vLLM and Triton do not install everywhere).

    python3 notebooks/python/reference_engine.py --port 8000 --hf HF_FOLDER --served-model-name tiny   # vLLM-style embeddings
    python3 notebooks/python/reference_engine.py --port 8001 --onnx models/NAME/model.onnx --kserve-name NAME  # Triton-style KServe v2

- OpenAI-compatible embeddings, as vLLM serves a pooling model (`vllm serve MODEL --runner pooling
  --convert embed --pooler-config '{"pooling_type": "LAST", "normalize": false}'`):
  `POST /v1/embeddings {"model", "input": [[ids...], ...] | [ids...], "encoding_format": "float"|"base64"}`
  -> `{"id", "object": "list", "created", "model", "data": [{"index", "object": "embedding", "embedding"}],
  "usage": {"prompt_tokens", "total_tokens"}}`; base64 is the little-endian float32 bytes.
  Computed with transformers: the base model's last hidden state at the last token, fp32.
  `GET /v1/models` lists the served name; `GET /health` answers 200.
- KServe v2 (Triton's HTTP protocol, JSON form): `GET /v2/health/ready`, `GET /v2/models/NAME`
  (metadata: inputs and outputs with datatype and shape, -1 for dynamic axes) and
  `POST /v2/models/NAME/infer {"inputs": [{"name", "shape", "datatype", "data"}], "outputs": [{"name"}]}`
  -> `{"model_name", "model_version", "outputs": [{"name", "shape", "datatype", "data"}]}` (flat,
  row-major), computed with onnxruntime on the exported model.onnx.

Faults, for tests: a model name `NAME:FAULT` serves NAME with FAULT: `normalize` (vectors of
norm 1, vLLM's embed default), `mean` (mean pooling), `bf16` (vectors rounded to bfloat16),
`nan`, `wrong-size` (one value short), `flaky` (every other request answers 503), `busy` (429
then a success, alternating), `hang` (never answers in time), `reset` (closes the connection without
an answer). `--die-after N` ends the process (os._exit) on receiving its N-th inference request,
before answering: an engine killed mid-run.

Once listening it prints `listening on PORT` (with `--port 0`, the port the system chose).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("normalize", "mean", "bf16", "nan", "wrong-size", "flaky", "busy", "hang", "reset")


class Engine:
    def __init__(self, hf=None, served_name=None, onnx=None, kserve_name=None, die_after=None, threads=1):
        self.lock = threading.Lock()
        self.count = 0
        self.die_after = die_after
        self.fault_counts = {}
        self.served_name = served_name
        self.kserve_name = kserve_name
        self.model = None
        self.session = None
        if hf is not None:
            import torch
            import transformers

            torch.set_num_threads(threads)
            self.torch = torch
            model = transformers.AutoModelForSequenceClassification.from_pretrained(hf, dtype=torch.float32)
            self.model = model.eval()
            self.base = getattr(model, model.base_model_prefix)
        if onnx is not None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            self.session = ort.InferenceSession(onnx, opts, providers=["CPUExecutionProvider"])
            _remove_ort_temp_log()

    def counted(self):
        """Counts an inference request; ends the process on the --die-after'th."""
        with self.lock:
            self.count += 1
            if self.die_after is not None and self.count >= self.die_after:
                os._exit(3)

    def tick(self, name):
        with self.lock:
            self.fault_counts[name] = self.fault_counts.get(name, 0) + 1
            return self.fault_counts[name]

    def embed(self, rows, fault):
        import numpy as np

        torch = self.torch
        out = []
        with self.lock, torch.no_grad():
            for ids in rows:
                hidden = self.base(input_ids=torch.tensor([ids])).last_hidden_state[0]
                v = (hidden.mean(0) if fault == "mean" else hidden[-1]).double().numpy()
                if fault == "normalize":
                    v = v / np.linalg.norm(v)
                elif fault == "bf16":
                    v = torch.tensor(v).to(torch.bfloat16).double().numpy()
                elif fault == "nan":
                    v = v.copy()
                    v[0] = float("nan")
                elif fault == "wrong-size":
                    v = v[:-1]
                out.append(v.astype(np.float32))
        return out

    def infer(self, feeds, names):
        with self.lock:
            return self.session.run(names, feeds)


def _remove_ort_temp_log():
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"mat-debug-{os.getpid()}.log")
    try:
        if os.path.getsize(path) == 0:
            os.unlink(path)
    except OSError:
        pass


_ORT_TO_KSERVE = {"tensor(float)": "FP32", "tensor(float16)": "FP16", "tensor(double)": "FP64", "tensor(int64)": "INT64", "tensor(int32)": "INT32"}


def make_handler(engine):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read stdout for the port only
            pass

        def send_json(self, status, doc, headers=None):
            body = json.dumps(doc).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, message):
            self.send_json(status, {"error": {"message": message, "type": "BadRequestError" if status == 400 else "Error", "code": status}})

        def read_json(self):
            n = int(self.headers.get("content-length") or 0)
            return json.loads(self.rfile.read(n) or b"null")

        def split_fault(self, name, served):
            base, _, fault = str(name).partition(":")
            if served is None or base != served or (fault and fault not in FAULTS):
                return None, None
            return base, fault or None

        def apply_transport_fault(self, name, fault):
            """True when the fault answered (or dropped) the request already."""
            if fault == "hang":
                time.sleep(3600)
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return True
            if fault in ("flaky", "busy") and engine.tick(name) % 2 == 1:
                status = 503 if fault == "flaky" else 429
                self.send_json(status, {"error": {"message": "the engine is busy", "code": status}}, {"retry-after": "0"})
                return True
            return False

        def do_GET(self):
            if self.path in ("/health", "/v2/health/ready", "/v2/health/live"):
                return self.send_json(200, {})
            if self.path == "/v1/models" and engine.served_name:
                return self.send_json(200, {"object": "list", "data": [{"id": engine.served_name, "object": "model"}]})
            if self.path.startswith("/v2/models/") and engine.session is not None:
                name = self.path[len("/v2/models/"):]
                base, _ = self.split_fault(name, engine.kserve_name)
                if base is None:
                    return self.error(404, f"Request for unknown model: '{name}' is not found")
                s = engine.session
                tensor = lambda v: {"name": v.name, "datatype": _ORT_TO_KSERVE.get(v.type, v.type), "shape": [d if isinstance(d, int) else -1 for d in v.shape]}
                return self.send_json(200, {"name": name, "versions": ["1"], "platform": "onnxruntime_onnx",
                                            "inputs": [tensor(v) for v in s.get_inputs()], "outputs": [tensor(v) for v in s.get_outputs()]})
            self.error(404, f"no route {self.path}")

        def do_POST(self):
            try:
                doc = self.read_json()
            except ValueError as e:
                return self.error(400, f"the body is not JSON: {e}")
            if self.path == "/v1/embeddings" and engine.model is not None:
                return self.embeddings(doc)
            if self.path.startswith("/v2/models/") and self.path.endswith("/infer") and engine.session is not None:
                return self.kserve(self.path[len("/v2/models/"):-len("/infer")], doc)
            self.error(404, f"no route {self.path}")

        def embeddings(self, doc):
            if not isinstance(doc, dict):
                return self.error(400, "the body must be a JSON object")
            name = doc.get("model")
            base, fault = self.split_fault(name, engine.served_name)
            if base is None:
                return self.error(404, f"The model `{name}` does not exist.")
            engine.counted()
            if self.apply_transport_fault(name, fault):
                return None
            rows = doc.get("input")
            if isinstance(rows, list) and rows and all(isinstance(x, int) for x in rows):
                rows = [rows]
            if not (isinstance(rows, list) and rows and all(isinstance(r, list) and r and all(isinstance(x, int) for x in r) for r in rows)):
                return self.error(400, "this engine takes token ids: input must be a list of token id lists")
            encoding = doc.get("encoding_format", "float")
            if encoding not in ("float", "base64"):
                return self.error(400, f"encoding_format must be 'float' or 'base64', got {encoding!r}")
            vectors = engine.embed(rows, fault)
            data = []
            for i, v in enumerate(vectors):
                emb = base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") if encoding == "base64" else [float(x) for x in v]
                data.append({"index": i, "object": "embedding", "embedding": emb})
            tokens = sum(len(r) for r in rows)
            # (json.dumps writes NaN as NaN, which is not JSON: an engine that does so is caught too.)
            self.send_json(200, {"id": f"embd-{engine.count}", "object": "list", "created": int(time.time()), "model": name, "data": data,
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        def kserve(self, name, doc):
            import numpy as np

            base, fault = self.split_fault(name, engine.kserve_name)
            if base is None:
                return self.error(404, f"Request for unknown model: '{name}' is not found")
            engine.counted()
            if self.apply_transport_fault(name, fault):
                return None
            if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list):
                return self.error(400, "the body must be {\"inputs\": [...], \"outputs\": [...]}")
            feeds = {}
            declared = {v.name: v for v in engine.session.get_inputs()}
            for t in doc["inputs"]:
                if t.get("name") not in declared:
                    return self.error(400, f"unexpected inference input '{t.get('name')}' for model '{name}'")
                if t.get("datatype") != "INT64":
                    return self.error(400, f"input '{t['name']}': datatype {t.get('datatype')}, expected INT64")
                arr = np.asarray(t.get("data"), dtype=np.int64).reshape(-1)
                shape = [int(d) for d in t.get("shape", [])]
                if int(np.prod(shape)) != arr.size:
                    return self.error(400, f"input '{t['name']}': {arr.size} values for shape {shape}")
                feeds[t["name"]] = arr.reshape(shape)
            missing = [n for n in declared if n not in feeds]
            if missing:
                return self.error(400, f"expected inputs {sorted(declared)}, missing {missing}")
            wanted = [o["name"] for o in doc.get("outputs") or []] or [o.name for o in engine.session.get_outputs()]
            known = {o.name for o in engine.session.get_outputs()}
            unknown = [n for n in wanted if n not in known]
            if unknown:
                return self.error(400, f"unexpected inference output '{unknown[0]}' for model '{name}'")
            results = engine.infer(feeds, wanted)
            outputs = []
            for n, r in zip(wanted, results):
                r = np.asarray(r, dtype=np.float32)
                if fault == "nan":
                    r = r.copy()
                    r.flat[0] = np.nan
                outputs.append({"name": n, "datatype": "FP32", "shape": list(r.shape), "data": [float(x) for x in r.reshape(-1)]})
            self.send_json(200, {"model_name": name, "model_version": "1", "outputs": outputs})

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(prog="reference_engine.py", description="A loopback reference engine: vLLM-style embeddings and KServe v2.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    ap.add_argument("--hf", help="a Hugging Face sequence-classifier folder: serve POST /v1/embeddings with transformers")
    ap.add_argument("--tiny-llama", metavar="DIR", help="first write test/fixtures/tiny-llama's checkpoint to DIR (make_tiny_checkpoint.py, as "
                                                          "make_parity_fixture.py makes it) and serve it as --hf")
    ap.add_argument("--served-model-name", help="the embeddings model's name (default: the --hf folder's name)")
    ap.add_argument("--onnx", help="an exported model.onnx: serve KServe v2 with onnxruntime")
    ap.add_argument("--kserve-name", help="the KServe model name (default: the --onnx folder's name)")
    ap.add_argument("--die-after", type=int, help="exit on receiving the N-th inference request (an engine killed mid-run)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.tiny_llama:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.abspath(os.path.join(here, "..", ".."))
        sys.path.insert(0, here)
        import make_tiny_checkpoint

        if not os.path.isdir(args.tiny_llama):
            code = make_tiny_checkpoint.main(["--arch", "llama", "--kind", "skywork", "--template-in-config",
                                              "--tokenizer", os.path.join(root, "node_modules", "@lenml", "tokenizer-llama3", "models"),
                                              "--chat-template", os.path.join(root, "test", "fixtures", "chat-templates", "llama-3.1-instruct.jinja"),
                                              "--out", args.tiny_llama])
            if code != 0:
                return code
        args.hf = args.tiny_llama
    if args.hf is None and args.onnx is None:
        ap.error("give --hf, --tiny-llama, --onnx or more")
    engine = Engine(hf=args.hf, served_name=args.served_model_name or (os.path.basename(os.path.abspath(args.hf)) if args.hf else None),
                    onnx=args.onnx, kserve_name=args.kserve_name or (os.path.basename(os.path.dirname(os.path.abspath(args.onnx))) if args.onnx else None),
                    die_after=args.die_after, threads=args.threads)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(engine))
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
