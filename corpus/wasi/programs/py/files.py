"""File I/O in the preopened directory `/data`: reads in.txt, writes out.txt, makes a directory, renames and
removes a file, lists the tree, and shows that `..` cannot leave the preopen."""
import os

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        with open("/data/in.txt") as f:
            text = f.read()
        print(f"in.txt: {len(text)} chars")
        os.makedirs("/data/sub", exist_ok=True)
        with open("/data/sub/out.txt", "w") as f:
            f.write(text[::-1])
        with open("/data/tmp.txt", "w") as f:
            f.write("temporary")
        os.rename("/data/tmp.txt", "/data/sub/renamed.txt")
        with open("/data/gone.txt", "w") as f:
            f.write("x")
        os.remove("/data/gone.txt")
        for root, dirs, files in sorted(os.walk("/data")):
            for name in sorted(files):
                path = os.path.join(root, name)
                print(f"{path} {os.path.getsize(path)}")
        try:
            open("/data/../escape.txt", "w").write("escaped")
            print("escape: allowed")
        except OSError as e:
            print(f"escape: refused ({type(e).__name__})")
