"""A pynetdicom Storage Commitment (Push Model) SCP for dimse's interop tests.

Usage: commitment_scp.py PORT KNOWN_UID...

Answers N-ACTION requests, then sends the report as an N-EVENT-REPORT on the same
association: instances whose SOP Instance UID is among KNOWN_UID are committed, the others
fail with reason 0x0112 (no such object instance).
"""

import sys
import threading

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

port = int(sys.argv[1])
known = set(sys.argv[2:])


def report(assoc, request):
    ds = Dataset()
    ds.TransactionUID = request.TransactionUID
    ok, failed = [], []
    for item in request.ReferencedSOPSequence:
        ref = Dataset()
        ref.ReferencedSOPClassUID = item.ReferencedSOPClassUID
        ref.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
        if item.ReferencedSOPInstanceUID in known:
            ok.append(ref)
        else:
            ref.FailureReason = 0x0112
            failed.append(ref)
    if ok:
        ds.ReferencedSOPSequence = ok
    if failed:
        ds.FailedSOPSequence = failed
    event_type = 2 if failed else 1
    status = assoc.send_n_event_report(
        ds, event_type, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
    )
    print("report sent, response", status[0].Status if status[0] else None, flush=True)


def on_action(event):
    request = event.action_information
    # The report may only follow the N-ACTION response: send it from another thread.
    threading.Timer(0.2, report, args=(event.assoc, request)).start()
    return 0x0000, None


ae = AE(ae_title="COMMITSCP")
ae.add_supported_context(StorageCommitmentPushModel)
print("listening", flush=True)
ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_N_ACTION, on_action)])
