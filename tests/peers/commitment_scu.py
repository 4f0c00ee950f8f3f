"""A pynetdicom Storage Commitment (Push Model) SCU for dimse's interop tests.

Usage: commitment_scu.py PORT CALLED_AE SOP_INSTANCE_UID...

Requests commitment of the given CT instances, waits for the N-EVENT-REPORT on the same
association and prints one line per instance: "committed UID" or "failed UID REASON".
"""

import sys
import threading

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

port, called, uids = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
done = threading.Event()


def on_report(event):
    info = event.event_information
    for item in getattr(info, "ReferencedSOPSequence", []):
        print("committed", item.ReferencedSOPInstanceUID, flush=True)
    for item in getattr(info, "FailedSOPSequence", []):
        print("failed", item.ReferencedSOPInstanceUID, hex(item.FailureReason), flush=True)
    done.set()
    return 0x0000


ae = AE(ae_title="PYSCU")
ae.add_requested_context(StorageCommitmentPushModel)
assoc = ae.associate(
    "127.0.0.1", port, ae_title=called, evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)]
)
if not assoc.is_established:
    sys.exit("association failed")
ds = Dataset()
ds.TransactionUID = "2.25.777"
refs = []
for uid in uids:
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ref.ReferencedSOPInstanceUID = uid
    refs.append(ref)
ds.ReferencedSOPSequence = refs
status, _ = assoc.send_n_action(ds, 1, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1")
ok = done.wait(20)
# Printed after the report so the two threads' lines never interleave.
print("action status", hex(status.Status) if status else None, flush=True)
assoc.release()
sys.exit(0 if ok else "no report")
