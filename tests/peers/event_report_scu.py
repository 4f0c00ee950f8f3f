"""Sends one N-EVENT-REPORT with pynetdicom, for dimse's `nevents` test.

Usage: event_report_scu.py PORT CALLED_AE TRANSACTION_UID COMMITTED_UID FAILED_UID

Opens an association (calling AE EVSCU) to 127.0.0.1:PORT proposing Storage Commitment Push
Model and sends a commitment report as an N-EVENT-REPORT (event type 2, "completed with
failures"): Transaction UID, one CT instance committed and one failed with reason 0x0112.
Prints "event report response 0xNNNN"; exits non-zero when nothing was answered.
"""

import sys

from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import StorageCommitmentPushModel

port, called, transaction, committed, failed = sys.argv[1:6]
CT = "1.2.840.10008.5.1.4.1.1.2"

ds = Dataset()
ds.TransactionUID = transaction
ok = Dataset()
ok.ReferencedSOPClassUID = CT
ok.ReferencedSOPInstanceUID = committed
ds.ReferencedSOPSequence = [ok]
bad = Dataset()
bad.ReferencedSOPClassUID = CT
bad.ReferencedSOPInstanceUID = failed
bad.FailureReason = 0x0112
ds.FailedSOPSequence = [bad]

ae = AE(ae_title="EVSCU")
ae.add_requested_context(StorageCommitmentPushModel)
assoc = ae.associate("127.0.0.1", int(port), ae_title=called)
if not assoc.is_established:
    sys.exit("association failed")
status, _ = assoc.send_n_event_report(
    ds, 2, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1"
)
assoc.release()
if not status:
    sys.exit("no response to the N-EVENT-REPORT")
print(f"event report response 0x{status.Status:04X}", flush=True)
