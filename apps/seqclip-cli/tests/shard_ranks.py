"""Run by torchrun in test_shards: each rank streams the train split of a shard directory through
the training loader (2 workers) for two epochs; rank 0 writes every rank's sample positions."""

import json
import sys

import torch.distributed as dist

from radar_text_data import resolve_data
from seqclip.training.stream import ShardStream, TrainData


def main(shards: str, out: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    stream = ShardStream(resolve_data(shards), "train", 32, seed=7, rank=rank, world=world, workers=2)
    data = TrainData.streamed(stream, batch_size=1, samples_per_rank=stream.samples_per_rank(), workers=2, pin=False)
    seen = {epoch: [int(b["positions"][0]) for b in data.batches(epoch, 0)] for epoch in (0, 1)}
    gathered = [None] * world
    dist.all_gather_object(gathered, seen)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(gathered, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
