"""A pynetdicom Storage Commitment (Push Model) SCP that reports on a new association.

Usage: commitment_scp_later.py PORT REQUESTOR_AE REQUESTOR_PORT KNOWN_UID...

Answers N-ACTION requests with Success, then opens an association of its own (calling AE
COMMITSCP, called AE REQUESTOR_AE) to 127.0.0.1:REQUESTOR_PORT and sends the report there as an
N-EVENT-REPORT (PS3.4 J.3.3): instances whose SOP Instance UID is among KNOWN_UID are committed,
the others fail with reason 0x0112 (no such object instance). Prints
"report sent on a new association, response 0xNNNN" (or "report not sent: ...").
"""

import sys
import threading

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

port = int(sys.argv[1])
requestor_ae = sys.argv[2]
requestor_port = int(sys.argv[3])
known = set(sys.argv[4:])


def report(request):
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

    ae = AE(ae_title="COMMITSCP")
    ae.add_requested_context(StorageCommitmentPushModel)
    assoc = ae.associate("127.0.0.1", requestor_port, ae_title=requestor_ae)
    if not assoc.is_established:
        print("report not sent: association to the requestor failed", flush=True)
        return
    status = assoc.send_n_event_report(
        ds, event_type, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
    )
    assoc.release()
    answer = status[0].Status if status and status[0] else None
    if answer is None:
        print("report not sent: no response", flush=True)
    else:
        print(f"report sent on a new association, response 0x{answer:04X}", flush=True)


def on_action(event):
    request = event.action_information
    print("N-ACTION from", event.assoc.requestor.ae_title, flush=True)
    # The report may only follow the N-ACTION response: send it from another thread.
    threading.Timer(0.2, report, args=(request,)).start()
    return 0x0000, None


ae = AE(ae_title="COMMITSCP")
ae.add_supported_context(StorageCommitmentPushModel)
print("listening", flush=True)
ae.start_server(("127.0.0.1", port), evt_handlers=[(evt.EVT_N_ACTION, on_action)])
